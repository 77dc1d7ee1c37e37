/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Memory backends: each kind of memory the project can register (host
 * memory, udmabuf, dma-heaps, vfio BARs, the test exporter) is one
 * struct pal_mem_ops. A backend gives a buffer a CPU view for checking data
 * and, where it exports one, a dma-buf fd.
 */
#ifndef RDMA_PAL_MEM_H
#define RDMA_PAL_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <infiniband/verbs.h>

#define PAL_ERR_LEN 256

struct pal_mem;

struct pal_mem_params {
	size_t size;		/* bytes; rounded up to the page size */
	/* The test exporter ("testexp"): bytes per extent, 0 for the page
	 * size; "udmabuf-huge": the huge page size, 2 MiB (0) or 1 GiB. */
	size_t extent_size;
	/* The test exporter only: */
	unsigned int mode;	/* DMA_BUF_PAL_TEST_MODE_*: mappings offered */
	bool shuffle;		/* extents in a seeded random order */
	uint64_t seed;		/* seed of the shuffle */
	/* vfio-pci ("vfio") only: */
	const char *pci_device;	/* PCI address, e.g. 0000:00:03.0 */
	unsigned int bar;	/* BAR index */
};

struct pal_mem_ops {
	const char *name;
	const char *help;
	/* Set up mem->cpu, mem->size and, if exported, mem->dmabuf_fd. */
	int (*alloc)(struct pal_mem *mem, const struct pal_mem_params *params);
	/* Release everything alloc set up; safe on a half-built buffer. */
	void (*free)(struct pal_mem *mem);
};

struct pal_mem {
	const struct pal_mem_ops *ops;
	size_t size;
	void *cpu;		/* CPU view of the whole buffer */
	int dmabuf_fd;		/* -1 when the backend exports no dma-buf */
	void *priv;		/* backend state */
	char err[PAL_ERR_LEN];	/* what failed, for the last error */
};

/* The backend called name, or NULL. */
const struct pal_mem_ops *pal_mem_backend(const char *name);
/* All backends, NULL-terminated. */
const struct pal_mem_ops *const *pal_mem_backends(void);

/*
 * Allocate a buffer from backend. Returns 0, or -1 with errno set and
 * mem->err saying which step failed.
 */
int pal_mem_alloc(struct pal_mem *mem, const struct pal_mem_ops *backend,
		  const struct pal_mem_params *params);
void pal_mem_free(struct pal_mem *mem);

/*
 * Register [offset, offset + len) of mem on pd: through its dma-buf fd with
 * ibv_reg_dmabuf_mr() when as_dmabuf, else with ibv_reg_mr() on the CPU
 * view (the baseline). Returns NULL with errno set and mem->err filled.
 */
struct ibv_mr *pal_mem_reg(struct pal_mem *mem, struct ibv_pd *pd,
			   size_t offset, size_t len, int access,
			   bool as_dmabuf);

/* Record "step: strerror(errno)" in mem->err; keeps errno. */
void pal_mem_set_err(struct pal_mem *mem, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Map mem->size bytes of fd at offset as mem->cpu (anonymous memory when fd
 * is -1); on failure mem->err names the backend and what.
 */
int pal_mem_map(struct pal_mem *mem, int fd, off_t offset, const char *what);

/*
 * For backends whose CPU view is an mmap of the dma-buf itself: map
 * mem->dmabuf_fd as mem->cpu, and (as their .free) undo both.
 */
int pal_mem_map_dmabuf(struct pal_mem *mem);
void pal_mem_free_dmabuf(struct pal_mem *mem);

extern const struct pal_mem_ops pal_mem_host_ops;
extern const struct pal_mem_ops pal_mem_udmabuf_ops;
extern const struct pal_mem_ops pal_mem_udmabuf_huge_ops;
extern const struct pal_mem_ops pal_mem_heap_ops;
extern const struct pal_mem_ops pal_mem_testexp_ops;
extern const struct pal_mem_ops pal_mem_vfio_ops;

#endif
