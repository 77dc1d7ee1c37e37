// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * udmabuf: a sealed memfd turned into a dma-buf by /dev/udmabuf. The CPU
 * view is a shared mapping of the memfd, so data checks read the very pages
 * the exporter hands out.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/udmabuf.h>

#include <rdma_pal/mem.h>

struct udmabuf_state {
	int memfd;
};

static int udmabuf_alloc(struct pal_mem *mem, const struct pal_mem_params *params)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC };
	struct udmabuf_state *st;
	int devfd;

	(void)params;
	st = calloc(1, sizeof(*st));
	if (!st) {
		pal_mem_set_err(mem, "udmabuf: state");
		return -1;
	}
	st->memfd = -1;
	mem->priv = st;

	st->memfd = memfd_create("rdma-pal-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (st->memfd < 0) {
		pal_mem_set_err(mem, "udmabuf: memfd_create");
		return -1;
	}
	/* udmabuf refuses a memfd that could shrink under the importer. */
	if (fcntl(st->memfd, F_ADD_SEALS, F_SEAL_SHRINK) ||
	    ftruncate(st->memfd, (off_t)mem->size)) {
		pal_mem_set_err(mem, "udmabuf: seal and size the memfd");
		return -1;
	}
	mem->cpu = mmap(NULL, mem->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			st->memfd, 0);
	if (mem->cpu == MAP_FAILED) {
		mem->cpu = NULL;
		pal_mem_set_err(mem, "udmabuf: mmap the memfd");
		return -1;
	}
	devfd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		pal_mem_set_err(mem, "udmabuf: open /dev/udmabuf");
		return -1;
	}
	create.memfd = (__u32)st->memfd;
	create.offset = 0;
	create.size = mem->size;
	mem->dmabuf_fd = ioctl(devfd, UDMABUF_CREATE, &create);
	close(devfd);
	if (mem->dmabuf_fd < 0) {
		mem->dmabuf_fd = -1;
		pal_mem_set_err(mem, "udmabuf: UDMABUF_CREATE of %zu bytes", mem->size);
		return -1;
	}
	return 0;
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
}

const struct pal_mem_ops pal_mem_udmabuf_ops = {
	.name = "udmabuf",
	.help = "memfd pages exported by /dev/udmabuf",
	.alloc = udmabuf_alloc,
	.free = udmabuf_free,
};
