// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The series' test exporter: /dev/dma_buf_pal_test makes RAM buffers of a
 * chosen extent size, optionally shuffled, offering lists, sg_tables or
 * both. The CPU view is an mmap of the dma-buf.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <dma-buf-pal-test-uapi.h>

#include <rdma_pal/mem.h>

static int testexp_alloc(struct pal_mem *mem, const struct pal_mem_params *params)
{
	size_t extent = params->extent_size ? params->extent_size :
					      (size_t)sysconf(_SC_PAGESIZE);
	struct dma_buf_pal_test_create create = {
		.extent_size = extent,
		.mode = params->mode,
		.flags = params->shuffle ? DMA_BUF_PAL_TEST_SHUFFLE : 0,
		.seed = params->seed,
	};
	int devfd;

	/* Whole extents only. */
	mem->size = (mem->size + extent - 1) / extent * extent;
	create.size = mem->size;
	devfd = open("/dev/dma_buf_pal_test", O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		pal_mem_set_err(mem, "testexp: open /dev/dma_buf_pal_test");
		return -1;
	}
	if (ioctl(devfd, DMA_BUF_PAL_TEST_CREATE, &create)) {
		pal_mem_set_err(mem, "testexp: DMA_BUF_PAL_TEST_CREATE of %zu bytes in %zu-byte extents",
				mem->size, extent);
		close(devfd);
		return -1;
	}
	close(devfd);
	mem->dmabuf_fd = create.fd;
	return pal_mem_map_dmabuf(mem);
}

const struct pal_mem_ops pal_mem_testexp_ops = {
	.name = "testexp",
	.help = "RAM from the series' test exporter, chosen extent size and order",
	.alloc = testexp_alloc,
	.free = pal_mem_free_dmabuf,
};
