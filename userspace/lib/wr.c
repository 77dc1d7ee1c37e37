// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "wr.h"

int pal_wr_post_one(struct ibv_qp *qp, struct ibv_send_wr *wr,
		    struct ibv_mr *mr, void *laddr, size_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)laddr,
		.length = (uint32_t)len,
		.lkey = mr->lkey,
	};
	struct ibv_send_wr *bad;
	int rc;

	wr->sg_list = &sge;
	wr->num_sge = 1;
	rc = ibv_post_send(qp, wr, &bad);
	/* The SGE lives on this stack: the caller's wr must not keep it. */
	wr->sg_list = NULL;
	wr->num_sge = 0;
	errno = rc;
	return rc;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 +
	       (now.tv_nsec - start->tv_nsec) / 1000000;
}

int pal_wr_poll_one(struct ibv_cq *cq, struct ibv_wc *wc, int timeout_ms,
		    bool yield)
{
	struct timespec start;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		n = ibv_poll_cq(cq, 1, wc);
		if (n < 0) {
			errno = EIO;
			return -1;
		}
		if (n == 1)
			return 0;
		if (yield)
			sched_yield();
	} while (elapsed_ms(&start) < timeout_ms);
	errno = ETIMEDOUT;
	return -1;
}
