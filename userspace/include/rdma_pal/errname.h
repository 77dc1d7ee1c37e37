/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* errno values by name, for tests that state the errno they expect. */
#ifndef RDMA_PAL_ERRNAME_H
#define RDMA_PAL_ERRNAME_H

/* "EINVAL" for EINVAL, "0" for 0, NULL for a value not in the table. */
const char *pal_errno_name(int err);
/* The errno called name ("EBADF", or "0"), or -1 if unknown. */
int pal_errno_parse(const char *name);

#endif
