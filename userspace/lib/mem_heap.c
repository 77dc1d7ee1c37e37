// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The system dma-heap: /dev/dma_heap/system allocates a dma-buf; the CPU
 * view is an mmap of the dma-buf itself.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-heap.h>

#include <rdma_pal/mem.h>

static int heap_alloc(struct pal_mem *mem, const struct pal_mem_params *params)
{
	struct dma_heap_allocation_data alloc = {
		.len = mem->size,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heapfd;

	(void)params;
	heapfd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heapfd < 0) {
		pal_mem_set_err(mem, "heap: open /dev/dma_heap/system");
		return -1;
	}
	if (ioctl(heapfd, DMA_HEAP_IOCTL_ALLOC, &alloc)) {
		pal_mem_set_err(mem, "heap: DMA_HEAP_IOCTL_ALLOC of %zu bytes", mem->size);
		close(heapfd);
		return -1;
	}
	close(heapfd);
	mem->dmabuf_fd = (int)alloc.fd;
	return pal_mem_map_dmabuf(mem);
}

const struct pal_mem_ops pal_mem_heap_ops = {
	.name = "heap",
	.help = "a dma-buf from the system dma-heap",
	.alloc = heap_alloc,
	.free = pal_mem_free_dmabuf,
};
