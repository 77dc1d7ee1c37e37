// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rdma_pal/errname.h>

#define E(x) { x, #x }
static const struct {
	int value;
	const char *name;
} names[] = {
	{ 0, "0" },
	E(EPERM), E(ENOENT), E(EIO), E(ENXIO), E(EBADF), E(EAGAIN),
	E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY), E(EEXIST), E(ENODEV),
	E(EINVAL), E(ENOSPC), E(ERANGE), E(ENOSYS), E(EOVERFLOW),
	E(EOPNOTSUPP), E(EPROTO), E(ETIMEDOUT), E(ECONNREFUSED),
	E(ECANCELED), E(ENOTTY), E(ENOEXEC),
};
#undef E

const char *pal_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].value == err)
			return names[i].name;
	return NULL;
}

int pal_errno_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].name, name))
			return names[i].value;
	return -1;
}
