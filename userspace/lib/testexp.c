// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Control of test exporter buffers, see rdma_pal/testexp.h. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <dma-buf-pal-test-uapi.h>

#include <rdma_pal/testexp.h>

/* One ioctl on the test device; keeps the ioctl's errno. */
static int testexp_ioctl(unsigned long cmd, void *arg)
{
	int devfd = open("/dev/dma_buf_pal_test", O_RDWR | O_CLOEXEC);
	int ret, saved;

	if (devfd < 0)
		return -1;
	ret = ioctl(devfd, cmd, arg);
	saved = errno;
	close(devfd);
	errno = saved;
	return ret ? -1 : 0;
}

static int testexp_invalidate(unsigned long cmd, int dmabuf_fd,
			      uint32_t *live_maps)
{
	struct dma_buf_pal_test_revoke arg = { .fd = dmabuf_fd };
	int ret = testexp_ioctl(cmd, &arg);

	/* Reported on a move refused for a mapping kept (EBUSY) too. */
	if (live_maps)
		*live_maps = arg.live_maps;
	return ret;
}

int pal_testexp_move(int dmabuf_fd, uint32_t *live_maps)
{
	return testexp_invalidate(DMA_BUF_PAL_TEST_MOVE, dmabuf_fd, live_maps);
}

int pal_testexp_revoke(int dmabuf_fd, uint32_t *live_maps)
{
	return testexp_invalidate(DMA_BUF_PAL_TEST_REVOKE, dmabuf_fd, live_maps);
}

static int testexp_fence(int dmabuf_fd, uint32_t op, uint32_t usage)
{
	struct dma_buf_pal_test_fence arg = {
		.fd = dmabuf_fd, .op = op, .usage = usage,
	};

	return testexp_ioctl(DMA_BUF_PAL_TEST_FENCE, &arg);
}

int pal_testexp_fence_add(int dmabuf_fd, uint32_t usage)
{
	return testexp_fence(dmabuf_fd, DMA_BUF_PAL_TEST_FENCE_ADD, usage);
}

int pal_testexp_fence_signal(int dmabuf_fd)
{
	return testexp_fence(dmabuf_fd, DMA_BUF_PAL_TEST_FENCE_SIGNAL, 0);
}

int pal_testexp_stats(int dmabuf_fd, struct pal_testexp_stats *stats)
{
	struct dma_buf_pal_test_stats arg = { .fd = dmabuf_fd };

	if (testexp_ioctl(DMA_BUF_PAL_TEST_STATS, &arg))
		return -1;
	*stats = (struct pal_testexp_stats){
		.attachments = arg.attachments,
		.pal_maps = arg.pal_maps,
		.sgt_maps = arg.sgt_maps,
		.pins = arg.pins,
		.moves = arg.moves,
		.revoked = arg.revoked,
	};
	return 0;
}

int pal_dmabuf_inspect(int dmabuf_fd, uint32_t *nr_ranges, uint32_t *nr_segs)
{
	struct dma_buf_pal_test_inspect arg = { .fd = dmabuf_fd };

	if (testexp_ioctl(DMA_BUF_PAL_TEST_INSPECT, &arg))
		return -1;
	*nr_ranges = arg.nr_ranges;
	if (nr_segs)
		*nr_segs = arg.nr_segs;
	return 0;
}
