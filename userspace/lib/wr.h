/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Work-request helpers shared by the connection (conn.c) and the loopback
 * QP pair (loop.c); not part of the library's interface.
 */
#ifndef RDMA_PAL_LIB_WR_H
#define RDMA_PAL_LIB_WR_H

#include <stdbool.h>
#include <stddef.h>

#include <infiniband/verbs.h>

/*
 * Post wr on qp with one SGE of [laddr, +len) in mr and the caller's
 * wr->send_flags (IBV_SEND_SIGNALED for a completion). Returns 0, or
 * ibv_post_send()'s error number (also in errno).
 */
int pal_wr_post_one(struct ibv_qp *qp, struct ibv_send_wr *wr,
		    struct ibv_mr *mr, void *laddr, size_t len);

/*
 * Busy-poll cq for one completion, as perftest does, for up to timeout_ms;
 * with yield, give the CPU away between empty polls (for threads racing on
 * few CPUs). Returns 0 with *wc filled, or -1 with errno EIO (the poll
 * failed) or ETIMEDOUT.
 */
int pal_wr_poll_one(struct ibv_cq *cq, struct ibv_wc *wc, int timeout_ms,
		    bool yield);

#endif
