// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * udmabuf: a sealed memfd turned into a dma-buf by /dev/udmabuf. The CPU
 * view is a shared mapping of the memfd, so data checks read the very pages
 * the exporter hands out. "udmabuf" uses ordinary shmem pages,
 * "udmabuf-huge" hugetlb folios of 2 MiB (the guest reserves some at boot)
 * or, with an extent size of 1 GiB ("udmabuf-huge:1G"), of 1 GiB (which
 * must be reserved first, at boot or in nr_hugepages).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/memfd.h>
#include <linux/udmabuf.h>

#include <rdma_pal/mem.h>

#define HUGE_2M (2UL << 20)
#define HUGE_1G (1UL << 30)

struct udmabuf_state {
	int memfd;
};

static int udmabuf_create(struct pal_mem *mem, unsigned int memfd_flags)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC };
	struct udmabuf_state *st;
	int devfd;

	st = calloc(1, sizeof(*st));
	if (!st) {
		pal_mem_set_err(mem, "%s: state", mem->ops->name);
		return -1;
	}
	st->memfd = -1;
	mem->priv = st;

	st->memfd = memfd_create("rdma-pal-udmabuf",
				 MFD_ALLOW_SEALING | MFD_CLOEXEC | memfd_flags);
	if (st->memfd < 0) {
		pal_mem_set_err(mem, "%s: memfd_create", mem->ops->name);
		return -1;
	}
	/* udmabuf refuses a memfd that could shrink under the importer. */
	if (fcntl(st->memfd, F_ADD_SEALS, F_SEAL_SHRINK) ||
	    ftruncate(st->memfd, (off_t)mem->size)) {
		pal_mem_set_err(mem, "%s: seal and size the memfd", mem->ops->name);
		return -1;
	}
	if (pal_mem_map(mem, st->memfd, 0, "the memfd"))
		return -1;
	devfd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		pal_mem_set_err(mem, "%s: open /dev/udmabuf", mem->ops->name);
		return -1;
	}
	create.memfd = (__u32)st->memfd;
	create.offset = 0;
	create.size = mem->size;
	mem->dmabuf_fd = ioctl(devfd, UDMABUF_CREATE, &create);
	close(devfd);
	if (mem->dmabuf_fd < 0) {
		mem->dmabuf_fd = -1;
		pal_mem_set_err(mem, "%s: UDMABUF_CREATE of %zu bytes",
				mem->ops->name, mem->size);
		return -1;
	}
	return 0;
}

static int udmabuf_alloc(struct pal_mem *mem, const struct pal_mem_params *params)
{
	(void)params;
	return udmabuf_create(mem, 0);
}

static int udmabuf_huge_alloc(struct pal_mem *mem, const struct pal_mem_params *params)
{
	size_t huge = params->extent_size ? params->extent_size : HUGE_2M;

	if (huge != HUGE_2M && huge != HUGE_1G) {
		pal_mem_set_err(mem, "%s: huge pages of 2M or 1G, not %zu bytes",
				mem->ops->name, huge);
		return -1;
	}
	/* hugetlbfs sizes in whole huge pages. */
	mem->size = (mem->size + huge - 1) & ~(huge - 1);
	return udmabuf_create(mem, MFD_HUGETLB |
				   (huge == HUGE_1G ? MFD_HUGE_1GB : MFD_HUGE_2MB));
}

static void udmabuf_free(struct pal_mem *mem)
{
	struct udmabuf_state *st = mem->priv;

	if (mem->dmabuf_fd >= 0)
		close(mem->dmabuf_fd);
	if (mem->cpu)
		munmap(mem->cpu, mem->size);
	if (st && st->memfd >= 0)
		close(st->memfd);
	free(st);
	mem->priv = NULL;
	mem->cpu = NULL;
	mem->dmabuf_fd = -1;
}

const struct pal_mem_ops pal_mem_udmabuf_ops = {
	.name = "udmabuf",
	.help = "memfd pages exported by /dev/udmabuf",
	.alloc = udmabuf_alloc,
	.free = udmabuf_free,
};

const struct pal_mem_ops pal_mem_udmabuf_huge_ops = {
	.name = "udmabuf-huge",
	.help = "hugetlb memfd folios exported by /dev/udmabuf (:2M, default, or :1G)",
	.alloc = udmabuf_huge_alloc,
	.free = udmabuf_free,
};
