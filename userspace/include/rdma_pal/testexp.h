/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Control of buffers made by the series' test exporter (backend "testexp"):
 * move them, revoke them, read their counters. Each call returns 0, or -1
 * with errno set by the kernel.
 */
#ifndef RDMA_PAL_TESTEXP_H
#define RDMA_PAL_TESTEXP_H

#include <stdint.h>

struct pal_testexp_stats {
	uint32_t attachments;	/* importers attached */
	uint32_t pal_maps;	/* physical address lists mapped */
	uint32_t sgt_maps;	/* sg_tables mapped */
	uint32_t pins;		/* pins held by importers */
	uint32_t moves;		/* completed moves */
	uint32_t revoked;	/* 1 once revoked */
};

/*
 * Move the buffer behind dmabuf_fd to new memory; *live_maps gets the
 * mappings importers still held after being invalidated (0 if they all
 * behaved). EBUSY while an importer has it pinned or kept a mapping,
 * ETIMEDOUT if a fence of its reservation did not signal within a second:
 * the buffer then stays where it was.
 */
int pal_testexp_move(int dmabuf_fd, uint32_t *live_maps);
/* Take the buffer away from its importers for good; the CPU view stays. */
int pal_testexp_revoke(int dmabuf_fd, uint32_t *live_maps);
int pal_testexp_stats(int dmabuf_fd, struct pal_testexp_stats *stats);

/* Usages of a fence, as the kernel's enum dma_resv_usage. */
enum pal_fence_usage {
	PAL_FENCE_KERNEL,	/* a move in progress: importers must wait */
	PAL_FENCE_WRITE,
	PAL_FENCE_READ,
	PAL_FENCE_BOOKKEEP,
};
/*
 * Hold an unsignalled fence of that usage in the buffer's reservation until
 * pal_testexp_fence_signal() (or the buffer's last close). EBUSY if one is
 * held already.
 */
int pal_testexp_fence_add(int dmabuf_fd, uint32_t usage);
int pal_testexp_fence_signal(int dmabuf_fd);

/*
 * Shape of the physical address list any exporter offers for dmabuf_fd, as
 * the series' test device sees it: ranges and segments. EOPNOTSUPP if the
 * exporter offers none.
 */
int pal_dmabuf_inspect(int dmabuf_fd, uint32_t *nr_ranges, uint32_t *nr_segs);

#endif
