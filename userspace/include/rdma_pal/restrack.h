/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the kernel's resource tracking reports about the calling process's
 * MRs ('rdma -dd -j resource show mr'): how each was imported and the
 * memory it keeps, as the series' drivers report it.
 */
#ifndef RDMA_PAL_RESTRACK_H
#define RDMA_PAL_RESTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pal_restrack_mr {
	uint32_t lkey;
	bool pal;		/* "dmabuf_path" is "pal" */
	int64_t extents;	/* "dmabuf_extents"; -1 if not reported */
	int64_t bytes;		/* "mr_bytes": kept to translate addresses; -1 if not */
	int64_t list_bytes;	/* "dmabuf_list_bytes": the exporter's list; -1 if not */
};

/*
 * The MRs of this process on RDMA device @dev, in a malloc()ed array of
 * *@nr (free() it); NULL with errno set if the rdma tool failed.
 */
struct pal_restrack_mr *pal_restrack_mrs(const char *dev, size_t *nr);

#endif /* RDMA_PAL_RESTRACK_H */
