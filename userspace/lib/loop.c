// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rdma_pal/loop.h>

#include "wr.h"

#define LOOP_PORT 1

static int loop_fail(struct pal_loop *loop, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int loop_fail(struct pal_loop *loop, const char *fmt, ...)
{
	int saved = errno ? errno : EIO;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(loop->err, sizeof(loop->err), fmt, ap);
	va_end(ap);
	n = strlen(loop->err);
	snprintf(loop->err + n, sizeof(loop->err) - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

static struct ibv_context *open_device(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	if (!list)
		return NULL;
	for (i = 0; list[i]; i++) {
		if (!name || !strcmp(ibv_get_device_name(list[i]), name)) {
			ctx = ibv_open_device(list[i]);
			break;
		}
	}
	if (!list[i])
		errno = ENODEV;
	ibv_free_device_list(list);
	return ctx;
}

/* The RoCE v2 GID of an IPv4 address (::ffff:a.b.c.d): routable over UDP. */
static int find_gid(struct pal_loop *loop)
{
	struct ibv_port_attr port;
	struct ibv_gid_entry entry;
	static const uint8_t v4_prefix[12] = { [10] = 0xff, [11] = 0xff };
	int i;

	if (ibv_query_port(loop->ctx, LOOP_PORT, &port))
		return loop_fail(loop, "ibv_query_port");
	for (i = 0; i < port.gid_tbl_len; i++) {
		if (ibv_query_gid_ex(loop->ctx, LOOP_PORT, i, &entry, 0))
			continue;
		if (entry.gid_type == IBV_GID_TYPE_ROCE_V2 &&
		    !memcmp(entry.gid.raw, v4_prefix, sizeof(v4_prefix))) {
			loop->gid = entry.gid;
			loop->gid_index = i;
			return 0;
		}
	}
	errno = ENOENT;
	return loop_fail(loop, "no RoCE v2 IPv4 GID on %s",
			 ibv_get_device_name(loop->ctx->device));
}

static struct ibv_qp *create_qp(struct pal_loop *loop)
{
	struct ibv_qp_init_attr attr = {
		.send_cq = loop->cq,
		.recv_cq = loop->cq,
		.cap = {
			.max_send_wr = loop->max_wr,
			.max_recv_wr = 1,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
		.qp_type = IBV_QPT_RC,
	};

	return ibv_create_qp(loop->pd, &attr);
}

/* RESET -> INIT -> RTR -> RTS, connected to dest on this device. */
static int connect_qp(struct pal_loop *loop, struct ibv_qp *qp,
		      struct ibv_qp *dest)
{
	struct ibv_qp_attr attr = {
		.qp_state = IBV_QPS_RESET,
	};
	int access = IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_ATOMIC;

	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE))
		return loop_fail(loop, "QP %u to RESET", qp->qp_num);

	attr = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = LOOP_PORT,
		.qp_access_flags = access,
	};
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return loop_fail(loop, "QP %u to INIT", qp->qp_num);

	attr = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_RTR,
		.path_mtu = IBV_MTU_1024,
		.dest_qp_num = dest->qp_num,
		.rq_psn = 0,
		.max_dest_rd_atomic = 16,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.grh = {
				.dgid = loop->gid,
				.sgid_index = (uint8_t)loop->gid_index,
				.hop_limit = 64,
			},
			.port_num = LOOP_PORT,
		},
	};
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_AV |
			  IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return loop_fail(loop, "QP %u to RTR", qp->qp_num);

	attr = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_RTS,
		.timeout = loop->ack_timeout,
		.retry_cnt = 7,
		.rnr_retry = 7,
		.sq_psn = 0,
		.max_rd_atomic = 16,
	};
	if (ibv_modify_qp(qp, &attr, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		return loop_fail(loop, "QP %u to RTS", qp->qp_num);
	return 0;
}

int pal_loop_reset(struct pal_loop *loop)
{
	struct timespec pause = { 0, 1000000 };
	int tries;

	/*
	 * rxe finishes an error asynchronously: a QP just reset can be moved
	 * to the error state again by its own tasks, and then refuses INIT.
	 * Start over from RESET a few times before giving up.
	 */
	for (tries = 0; tries < 5; tries++) {
		if (!connect_qp(loop, loop->req, loop->resp) &&
		    !connect_qp(loop, loop->resp, loop->req)) {
			loop->reset_retries += tries;
			return 0;
		}
		nanosleep(&pause, NULL);
	}
	return -1;
}

int pal_loop_open(struct pal_loop *loop, const char *dev_name,
		  uint32_t max_wr)
{
	memset(loop, 0, sizeof(*loop));
	loop->max_wr = max_wr;
	loop->ack_timeout = 14;		/* 67 ms */
	errno = 0;
	loop->ctx = open_device(dev_name);
	if (!loop->ctx)
		return loop_fail(loop, "open device %s", dev_name ? dev_name : "(first)");
	if (find_gid(loop))
		goto err;
	loop->pd = ibv_alloc_pd(loop->ctx);
	if (!loop->pd) {
		loop_fail(loop, "ibv_alloc_pd");
		goto err;
	}
	/* Room for the completions of both QPs, flushed ones included. */
	loop->cq = ibv_create_cq(loop->ctx, (int)(2 * max_wr + 2), NULL, NULL, 0);
	if (!loop->cq) {
		loop_fail(loop, "ibv_create_cq");
		goto err;
	}
	loop->req = create_qp(loop);
	loop->resp = loop->req ? create_qp(loop) : NULL;
	if (!loop->resp) {
		loop_fail(loop, "ibv_create_qp");
		goto err;
	}
	if (pal_loop_reset(loop))
		goto err;
	return 0;

err:
	{
		int saved = errno;

		pal_loop_close(loop);
		errno = saved;
	}
	return -1;
}

void pal_loop_close(struct pal_loop *loop)
{
	if (loop->resp)
		ibv_destroy_qp(loop->resp);
	if (loop->req)
		ibv_destroy_qp(loop->req);
	if (loop->cq)
		ibv_destroy_cq(loop->cq);
	if (loop->pd)
		ibv_dealloc_pd(loop->pd);
	if (loop->ctx)
		ibv_close_device(loop->ctx);
	loop->resp = NULL;
	loop->req = NULL;
	loop->cq = NULL;
	loop->pd = NULL;
	loop->ctx = NULL;
}

int pal_loop_post_rdma(struct pal_loop *loop, enum ibv_wr_opcode opcode,
		       struct ibv_mr *mr, void *laddr, size_t len,
		       uint64_t raddr, uint32_t rkey, uint64_t wr_id)
{
	struct ibv_send_wr wr = {
		.wr_id = wr_id,
		.opcode = opcode,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};

	if (pal_wr_post_one(loop->req, &wr, mr, laddr, len))
		return loop_fail(loop, "ibv_post_send opcode %d", opcode);
	return 0;
}

int pal_loop_poll(struct pal_loop *loop, struct ibv_wc *wc, int timeout_ms)
{
	/* Other threads may be racing this one on two vCPUs: yield. */
	if (!pal_wr_poll_one(loop->cq, wc, timeout_ms, true))
		return 0;
	if (errno == EIO)
		return loop_fail(loop, "ibv_poll_cq");
	return loop_fail(loop, "no completion within %d ms", timeout_ms);
}
