// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rdma_pal/mem.h>

static const struct pal_mem_ops *const backends[] = {
	&pal_mem_host_ops,
	&pal_mem_udmabuf_ops,
	&pal_mem_udmabuf_huge_ops,
	&pal_mem_heap_ops,
	&pal_mem_testexp_ops,
	&pal_mem_vfio_ops,
	NULL,
};

const struct pal_mem_ops *const *pal_mem_backends(void)
{
	return backends;
}

const struct pal_mem_ops *pal_mem_backend(const char *name)
{
	for (int i = 0; backends[i]; i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

void pal_mem_set_err(struct pal_mem *mem, const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mem->err, sizeof(mem->err), fmt, ap);
	va_end(ap);
	n = strlen(mem->err);
	snprintf(mem->err + n, sizeof(mem->err) - n, ": %s", strerror(saved));
	errno = saved;
}

int pal_mem_map(struct pal_mem *mem, int fd, off_t offset, const char *what)
{
	int flags = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED;

	mem->cpu = mmap(NULL, mem->size, PROT_READ | PROT_WRITE, flags, fd, offset);
	if (mem->cpu == MAP_FAILED) {
		mem->cpu = NULL;
		pal_mem_set_err(mem, "%s: mmap %s", mem->ops->name, what);
		return -1;
	}
	return 0;
}

int pal_mem_map_dmabuf(struct pal_mem *mem)
{
	return pal_mem_map(mem, mem->dmabuf_fd, 0, "the dma-buf");
}

void pal_mem_free_dmabuf(struct pal_mem *mem)
{
	if (mem->cpu)
		munmap(mem->cpu, mem->size);
	if (mem->dmabuf_fd >= 0)
		close(mem->dmabuf_fd);
	mem->cpu = NULL;
	mem->dmabuf_fd = -1;
}

/*
 * Forget a buffer whose backend freed it: nothing may be unmapped or
 * closed again, since the address or the fd number may already be
 * someone else's.
 */
static void mem_forget(struct pal_mem *mem)
{
	mem->ops = NULL;
	mem->cpu = NULL;
	mem->dmabuf_fd = -1;
	mem->priv = NULL;
}

int pal_mem_alloc(struct pal_mem *mem, const struct pal_mem_ops *backend,
		  const struct pal_mem_params *params)
{
	long page = sysconf(_SC_PAGESIZE);

	memset(mem, 0, sizeof(*mem));
	mem->ops = backend;
	mem->dmabuf_fd = -1;
	if (!params->size) {
		errno = EINVAL;
		pal_mem_set_err(mem, "%s: zero size", backend->name);
		return -1;
	}
	mem->size = (params->size + page - 1) & ~((size_t)page - 1);
	if (backend->alloc(mem, params)) {
		int saved = errno;

		backend->free(mem);
		mem_forget(mem);
		errno = saved;
		return -1;
	}
	return 0;
}

void pal_mem_free(struct pal_mem *mem)
{
	if (mem->ops)
		mem->ops->free(mem);
	mem_forget(mem);
}

struct ibv_mr *pal_mem_reg(struct pal_mem *mem, struct ibv_pd *pd,
			   size_t offset, size_t len, int access,
			   bool as_dmabuf)
{
	struct ibv_mr *mr;

	if (offset > mem->size || len > mem->size - offset) {
		errno = EINVAL;
		pal_mem_set_err(mem, "register [%zu, +%zu) of a %zu-byte buffer",
				offset, len, mem->size);
		return NULL;
	}
	if (!as_dmabuf) {
		mr = ibv_reg_mr(pd, (char *)mem->cpu + offset, len, access);
		if (!mr)
			pal_mem_set_err(mem, "ibv_reg_mr(%s, %zu bytes)",
					mem->ops->name, len);
		return mr;
	}
	if (mem->dmabuf_fd < 0) {
		errno = EOPNOTSUPP;
		pal_mem_set_err(mem, "%s exports no dma-buf", mem->ops->name);
		return NULL;
	}
	/* The MR's iova is the offset, as perftest and UCX register. */
	mr = ibv_reg_dmabuf_mr(pd, offset, len, offset, mem->dmabuf_fd, access);
	if (!mr)
		pal_mem_set_err(mem, "ibv_reg_dmabuf_mr(%s, fd %d, %zu bytes)",
				mem->ops->name, mem->dmabuf_fd, len);
	return mr;
}
