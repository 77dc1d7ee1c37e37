// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Fences of a dma-buf's reservation, as an exporter and as an importer must
 * honour them, on the test exporter (which can hold a fence unsignalled
 * until told to signal it).
 *
 *   dmabuf_fence --test move-waits
 *   dmabuf_fence --test fault-bounded --device DEV
 *
 * move-waits: the exporter frees a moved buffer's old memory only once
 * every fence of the reservation has signalled. With a fence that never
 * signals, MOVE fails with ETIMEDOUT and leaves the buffer where it was
 * (contents intact, no move counted); with one that a second thread signals
 * later, MOVE succeeds only after that signal. Bad fence requests get
 * EINVAL and EBUSY.
 *
 * fault-bounded: an on-demand dma-buf MR on DEV (two RC QPs of DEV joined
 * to each other) whose buffer was moved and then given a kernel fence that
 * does not signal, as an exporter's copy that hangs: an RDMA WRITE into the
 * MR must fail with a remote access error in bounded time, instead of
 * stalling the device's responder on the fence (which shows as a retry
 * timeout or no completion at all). Once the fence signals, the same MR
 * takes a WRITE again and the bytes land in the buffer's new memory.
 *
 * Exit 0 if everything held, 1 with the reason otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/loop.h>
#include <rdma_pal/mem.h>
#include <rdma_pal/pattern.h>
#include <rdma_pal/testexp.h>

#define SIZE (1 << 20)
#define EXTENT (64 << 10)
#define SEED 0xfe4ce
#define SIGNAL_DELAY_MS 300
#define POLL_MS 30000

static int failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int failf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return -1;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int alloc_testexp(struct pal_mem *mem)
{
	struct pal_mem_params params = {
		.size = SIZE, .extent_size = EXTENT, .shuffle = true, .seed = 3,
	};

	if (pal_mem_alloc(mem, &pal_mem_testexp_ops, &params))
		return failf("%s", mem->err);
	return 0;
}

/* ret must be -1 with errno want. */
static int expect_errno(int ret, int want, const char *what)
{
	if (ret == 0)
		return failf("%s succeeded, expected %s", what,
			     pal_errno_name(want));
	if (errno != want)
		return failf("%s: %s, expected %s", what, pal_errno_name(errno),
			     pal_errno_name(want));
	printf("%s: %s, as expected\n", what, pal_errno_name(want));
	return 0;
}

struct signaller {
	int fd;
	atomic_bool signalled;
};

static void *signal_later(void *arg)
{
	struct signaller *s = arg;

	usleep(SIGNAL_DELAY_MS * 1000);
	/* Set before the signal: whoever sees the fence done sees this. */
	atomic_store(&s->signalled, true);
	if (pal_testexp_fence_signal(s->fd))
		perror("fence signal");
	return NULL;
}

static int test_move_waits(void)
{
	struct pal_testexp_stats st;
	struct signaller sig = { 0 };
	struct pal_mem mem;
	pthread_t thread;
	uint32_t live = 0;
	ssize_t bad;
	double t0;
	int ret = -1;

	if (alloc_testexp(&mem))
		return -1;
	pal_pattern_fill(mem.cpu, mem.size, SEED, 0);

	/* Requests the exporter must refuse. */
	if (expect_errno(pal_testexp_fence_add(mem.dmabuf_fd, PAL_FENCE_BOOKKEEP + 1),
			 EINVAL, "fence of an unknown usage"))
		goto out;

	/* A fence that never signals: the move gives up, nothing freed. */
	if (pal_testexp_fence_add(mem.dmabuf_fd, PAL_FENCE_WRITE)) {
		failf("fence add: %s", strerror(errno));
		goto out;
	}
	if (expect_errno(pal_testexp_fence_add(mem.dmabuf_fd, PAL_FENCE_READ),
			 EBUSY, "second fence while one is held"))
		goto out;
	if (expect_errno(pal_testexp_move(mem.dmabuf_fd, &live), ETIMEDOUT,
			 "move while a fence does not signal"))
		goto out;
	if (pal_testexp_stats(mem.dmabuf_fd, &st)) {
		failf("stats: %s", strerror(errno));
		goto out;
	}
	if (st.moves != 0) {
		failf("a move was counted although it timed out");
		goto out;
	}
	bad = pal_pattern_check(mem.cpu, mem.size, SEED, 0);
	if (bad >= 0) {
		failf("byte %zd changed by a move that did not happen", bad);
		goto out;
	}

	/* A fence signalled later: the move returns only after it. */
	sig.fd = mem.dmabuf_fd;
	if (pthread_create(&thread, NULL, signal_later, &sig)) {
		failf("pthread_create");
		goto out;
	}
	t0 = now_ms();
	if (pal_testexp_move(mem.dmabuf_fd, &live)) {
		failf("move after the fence signals: %s", strerror(errno));
		pthread_join(thread, NULL);
		goto out;
	}
	printf("move returned after %.0f ms, fence signalled %d\n",
	       now_ms() - t0, atomic_load(&sig.signalled));
	if (!atomic_load(&sig.signalled)) {
		failf("the move returned before the fence signalled: old memory freed under a pending fence");
		pthread_join(thread, NULL);
		goto out;
	}
	pthread_join(thread, NULL);
	if (live) {
		failf("%u mapping(s) live after the move", live);
		goto out;
	}
	if (pal_testexp_stats(mem.dmabuf_fd, &st) || st.moves != 1) {
		failf("expected one move, stats say %u", st.moves);
		goto out;
	}
	bad = pal_pattern_check(mem.cpu, mem.size, SEED, 0);
	if (bad >= 0) {
		failf("byte %zd lost in the move", bad);
		goto out;
	}
	printf("contents intact after the move\n");
	ret = 0;
out:
	pal_testexp_fence_signal(mem.dmabuf_fd);
	pal_mem_free(&mem);
	return ret;
}

/* One RDMA WRITE of buf into the target MR; returns its completion. */
static int write_once(struct pal_loop *loop, struct ibv_mr *src, void *buf,
		      struct ibv_mr *dst, struct ibv_wc *wc)
{
	if (pal_loop_post_rdma(loop, IBV_WR_RDMA_WRITE, src, buf, EXTENT, 0,
			       dst->rkey, 1))
		return failf("%s", loop->err);
	if (pal_loop_poll(loop, wc, POLL_MS))
		return failf("%s", loop->err);
	return 0;
}

static int test_fault_bounded(const char *device)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ | IBV_ACCESS_ON_DEMAND;
	struct ibv_mr *dst = NULL, *src = NULL;
	struct pal_loop loop;
	struct pal_mem mem;
	struct ibv_wc wc;
	bool fenced = false;
	uint32_t live = 0;
	void *buf = NULL;
	ssize_t bad;
	double t0;
	int ret = -1;

	if (pal_loop_open(&loop, device, 4))
		return failf("%s", loop.err);
	/*
	 * Retries must outlast the responder's bounded wait (a second), so
	 * that a responder that gives up NAKs before the requester does, and
	 * one that stalls shows as retries exhausted.
	 */
	loop.ack_timeout = 18;		/* 1.07 s, 7 retries */
	if (pal_loop_reset(&loop)) {
		failf("%s", loop.err);
		goto close;
	}
	if (alloc_testexp(&mem))
		goto close;
	memset(mem.cpu, 0, mem.size);
	buf = aligned_alloc(4096, EXTENT);
	src = buf ? ibv_reg_mr(loop.pd, buf, EXTENT, IBV_ACCESS_LOCAL_WRITE) : NULL;
	dst = pal_mem_reg(&mem, loop.pd, 0, mem.size, access, true);
	if (!src || !dst) {
		failf("registration: %s", dst ? strerror(errno) : mem.err);
		goto out;
	}

	/* The MR works. */
	pal_pattern_fill(buf, EXTENT, SEED, 0);
	if (write_once(&loop, src, buf, dst, &wc))
		goto out;
	if (wc.status != IBV_WC_SUCCESS) {
		failf("first WRITE: %s", ibv_wc_status_str(wc.status));
		goto out;
	}

	/* The exporter moves it and its copy never finishes. */
	if (pal_testexp_move(mem.dmabuf_fd, &live) || live) {
		failf("move: %s, %u live", strerror(errno), live);
		goto out;
	}
	if (pal_testexp_fence_add(mem.dmabuf_fd, PAL_FENCE_KERNEL)) {
		failf("fence add: %s", strerror(errno));
		goto out;
	}
	fenced = true;

	t0 = now_ms();
	if (write_once(&loop, src, buf, dst, &wc))
		goto out;
	printf("WRITE during a stuck move: %s after %.0f ms\n",
	       ibv_wc_status_str(wc.status), now_ms() - t0);
	if (wc.status != IBV_WC_REM_ACCESS_ERR) {
		failf("expected %s: the responder must give up on the fence, not stall",
		      ibv_wc_status_str(IBV_WC_REM_ACCESS_ERR));
		goto out;
	}

	/* The copy finishes: the MR maps the new memory on its next use. */
	if (pal_testexp_fence_signal(mem.dmabuf_fd)) {
		failf("fence signal: %s", strerror(errno));
		goto out;
	}
	fenced = false;
	if (pal_loop_reset(&loop)) {
		failf("%s", loop.err);
		goto out;
	}
	pal_pattern_fill(buf, EXTENT, SEED + 1, 0);
	if (write_once(&loop, src, buf, dst, &wc))
		goto out;
	if (wc.status != IBV_WC_SUCCESS) {
		failf("WRITE after the fence signalled: %s",
		      ibv_wc_status_str(wc.status));
		goto out;
	}
	bad = pal_pattern_check(mem.cpu, EXTENT, SEED + 1, 0);
	if (bad >= 0) {
		failf("byte %zd of the WRITE missing from the moved buffer", bad);
		goto out;
	}
	printf("WRITE after the fence signalled: success, bytes in the new memory\n");
	ret = 0;
out:
	if (fenced)
		pal_testexp_fence_signal(mem.dmabuf_fd);
	if (dst)
		ibv_dereg_mr(dst);
	if (src)
		ibv_dereg_mr(src);
	free(buf);
	pal_mem_free(&mem);
close:
	pal_loop_close(&loop);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "test", required_argument, NULL, 't' },
		{ "device", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *test = NULL, *device = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			test = optarg;
			break;
		case 'd':
			device = optarg;
			break;
		default:
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (test && !strcmp(test, "move-waits"))
		return test_move_waits() ? 1 : 0;
	if (test && !strcmp(test, "fault-bounded") && device)
		return test_fault_bounded(device) ? 1 : 0;
	fprintf(stderr, "usage: %s --test move-waits | --test fault-bounded --device DEV\n",
		argv[0]);
	return 2;
}
