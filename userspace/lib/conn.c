// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rdma_pal/conn.h>

#include "wr.h"

/*
 * The kernel retries an address resolution that waits for a neighbour when
 * the neighbour is updated, or else only once its timeout expires: an
 * update it misses (the reply came before the request was queued) costs
 * the whole timeout. Resolve with the 2 s librdmacm's examples use, and
 * keep the connection's timeout for waiting on the events.
 */
#define PAL_CM_RESOLVE_MS 2000

/* What travels in the connection's private data; big-endian on the wire. */
struct wire_buf {
	uint64_t addr;
	uint64_t len;
	uint32_t rkey;
	uint32_t reserved;
};

static int conn_fail(struct pal_conn *conn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int conn_fail(struct pal_conn *conn, const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(conn->err, sizeof(conn->err), fmt, ap);
	va_end(ap);
	/* No errno to tell (a check of ours failed): say only what. */
	if (saved) {
		n = strlen(conn->err);
		snprintf(conn->err + n, sizeof(conn->err) - n, ": %s", strerror(saved));
	}
	errno = saved ? saved : EIO;
	return -1;
}

/*
 * The errno of an unexpected CM event. A REJECTED event's status is the
 * transport's positive reject reason, not an errno; other events carry a
 * negative errno, or none.
 */
static int event_errno(const struct rdma_cm_event *ev)
{
	if (ev->event == RDMA_CM_EVENT_REJECTED)
		return ECONNREFUSED;
	return ev->status < 0 ? -ev->status : EPROTO;
}

void pal_conn_init(struct pal_conn *conn, const struct pal_conn_attr *attr)
{
	memset(conn, 0, sizeof(*conn));
	conn->attr = *attr;
	if (!conn->attr.timeout_ms)
		conn->attr.timeout_ms = 10000;
}

static void encode_buf(struct wire_buf *w, const struct pal_remote_buf *b)
{
	w->addr = htobe64(b->addr);
	w->len = htobe64(b->len);
	w->rkey = htobe32(b->rkey);
	w->reserved = 0;
}

static int decode_buf(struct pal_remote_buf *b, const void *data, size_t len)
{
	struct wire_buf w;

	if (!data || len < sizeof(w)) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&w, data, sizeof(w));
	b->addr = be64toh(w.addr);
	b->len = be64toh(w.len);
	b->rkey = be32toh(w.rkey);
	return 0;
}

/*
 * Wait for the next CM event, which must be of type want. On success the
 * event is returned unacknowledged, so its private data stays valid.
 */
static int wait_event(struct pal_conn *conn, enum rdma_cm_event_type want,
		      struct rdma_cm_event **out)
{
	struct pollfd pfd = { .fd = conn->events->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	int n;

	n = poll(&pfd, 1, conn->attr.timeout_ms);
	if (n == 0)
		errno = ETIMEDOUT;
	if (n <= 0)
		return conn_fail(conn, "waiting for %s", rdma_event_str(want));
	if (rdma_get_cm_event(conn->events, &ev))
		return conn_fail(conn, "rdma_get_cm_event");
	if (ev->event != want) {
		errno = event_errno(ev);
		conn_fail(conn, "wanted %s, got %s (status %d)",
			  rdma_event_str(want), rdma_event_str(ev->event),
			  ev->status);
		rdma_ack_cm_event(ev);
		return -1;
	}
	*out = ev;
	return 0;
}

static int make_channel(struct pal_conn *conn)
{
	/* Blocking is fine: wait_event() polls before it reads. */
	conn->events = rdma_create_event_channel();
	if (!conn->events)
		return conn_fail(conn, "rdma_create_event_channel");
	return 0;
}

static int get_addr(struct pal_conn *conn, const char *addr, const char *port,
		    bool passive, struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : 0,
	};
	int rc = getaddrinfo(addr, port, &hints, res);

	if (rc) {
		errno = EINVAL;
		snprintf(conn->err, sizeof(conn->err), "address %s port %s: %s",
			 addr ? addr : "*", port, gai_strerror(rc));
		return -1;
	}
	return 0;
}

/* PD, CQ and QP on the device the CM bound conn->id to. */
static int make_resources(struct pal_conn *conn)
{
	struct ibv_qp_init_attr qp_attr = {
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = conn->attr.max_send_wr,
			.max_recv_wr = conn->attr.max_recv_wr,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
	};

	conn->pd = ibv_alloc_pd(conn->id->verbs);
	if (!conn->pd)
		return conn_fail(conn, "ibv_alloc_pd");
	conn->cq = ibv_create_cq(conn->id->verbs,
				 (int)(conn->attr.max_send_wr + conn->attr.max_recv_wr),
				 NULL, NULL, 0);
	if (!conn->cq)
		return conn_fail(conn, "ibv_create_cq");
	qp_attr.send_cq = conn->cq;
	qp_attr.recv_cq = conn->cq;
	if (rdma_create_qp(conn->id, conn->pd, &qp_attr))
		return conn_fail(conn, "rdma_create_qp");
	return 0;
}

static void conn_param(struct pal_conn *conn, struct rdma_conn_param *param,
		       struct wire_buf *w, const struct pal_remote_buf *local)
{
	encode_buf(w, local);
	memset(param, 0, sizeof(*param));
	param->private_data = w;
	param->private_data_len = sizeof(*w);
	param->responder_resources = conn->attr.max_rd_atomic;
	param->initiator_depth = conn->attr.max_rd_atomic;
	param->retry_count = 7;
	param->rnr_retry_count = 7;
}

int pal_conn_listen(struct pal_conn *conn, const char *addr, const char *port)
{
	struct addrinfo *res;
	int rc;

	if (make_channel(conn))
		return -1;
	if (rdma_create_id(conn->events, &conn->listen_id, NULL, RDMA_PS_TCP))
		return conn_fail(conn, "rdma_create_id");
	if (get_addr(conn, addr, port, true, &res))
		return -1;
	rc = rdma_bind_addr(conn->listen_id, res->ai_addr);
	freeaddrinfo(res);
	if (rc)
		return conn_fail(conn, "rdma_bind_addr %s:%s", addr ? addr : "*", port);
	if (rdma_listen(conn->listen_id, 1))
		return conn_fail(conn, "rdma_listen");
	return 0;
}

int pal_conn_get_request(struct pal_conn *conn)
{
	struct rdma_cm_event *ev;

	if (wait_event(conn, RDMA_CM_EVENT_CONNECT_REQUEST, &ev))
		return -1;
	conn->id = ev->id;
	/* The client's buffer arrives with its request. */
	if (decode_buf(&conn->peer, ev->param.conn.private_data,
		       ev->param.conn.private_data_len)) {
		/* Tell the client now rather than let it time out. */
		rdma_reject(conn->id, NULL, 0);
		rdma_ack_cm_event(ev);
		errno = EPROTO;
		return conn_fail(conn, "connect request without a buffer");
	}
	rdma_ack_cm_event(ev);
	return make_resources(conn);
}

int pal_conn_accept(struct pal_conn *conn, const struct pal_remote_buf *local)
{
	struct rdma_conn_param param;
	struct rdma_cm_event *ev;
	struct wire_buf w;

	conn_param(conn, &param, &w, local);
	if (rdma_accept(conn->id, &param))
		return conn_fail(conn, "rdma_accept");
	if (wait_event(conn, RDMA_CM_EVENT_ESTABLISHED, &ev))
		return -1;
	rdma_ack_cm_event(ev);
	return 0;
}

int pal_conn_resolve(struct pal_conn *conn, const char *addr, const char *port)
{
	struct rdma_cm_event *ev;
	struct addrinfo *res;
	int rc;

	if (make_channel(conn))
		return -1;
	if (rdma_create_id(conn->events, &conn->id, NULL, RDMA_PS_TCP))
		return conn_fail(conn, "rdma_create_id");
	if (get_addr(conn, addr, port, false, &res))
		return -1;
	rc = rdma_resolve_addr(conn->id, NULL, res->ai_addr, PAL_CM_RESOLVE_MS);
	freeaddrinfo(res);
	if (rc)
		return conn_fail(conn, "rdma_resolve_addr %s", addr);
	if (wait_event(conn, RDMA_CM_EVENT_ADDR_RESOLVED, &ev))
		return -1;
	rdma_ack_cm_event(ev);
	if (rdma_resolve_route(conn->id, PAL_CM_RESOLVE_MS))
		return conn_fail(conn, "rdma_resolve_route");
	if (wait_event(conn, RDMA_CM_EVENT_ROUTE_RESOLVED, &ev))
		return -1;
	rdma_ack_cm_event(ev);
	return make_resources(conn);
}

int pal_conn_connect(struct pal_conn *conn, const struct pal_remote_buf *local)
{
	struct rdma_conn_param param;
	struct rdma_cm_event *ev;
	struct wire_buf w;
	int rc;

	conn_param(conn, &param, &w, local);
	if (rdma_connect(conn->id, &param))
		return conn_fail(conn, "rdma_connect");
	if (wait_event(conn, RDMA_CM_EVENT_ESTABLISHED, &ev))
		return -1;
	rc = decode_buf(&conn->peer, ev->param.conn.private_data,
			ev->param.conn.private_data_len);
	rdma_ack_cm_event(ev);
	if (rc)
		return conn_fail(conn, "accept without a buffer");
	return 0;
}

int pal_conn_wait_disconnect(struct pal_conn *conn)
{
	struct rdma_cm_event *ev;

	if (wait_event(conn, RDMA_CM_EVENT_DISCONNECTED, &ev))
		return -1;
	rdma_ack_cm_event(ev);
	return 0;
}

void pal_conn_destroy(struct pal_conn *conn)
{
	if (conn->id) {
		rdma_disconnect(conn->id);
		if (conn->id->qp)
			rdma_destroy_qp(conn->id);
	}
	if (conn->cq)
		ibv_destroy_cq(conn->cq);
	if (conn->pd)
		ibv_dealloc_pd(conn->pd);
	if (conn->id)
		rdma_destroy_id(conn->id);
	if (conn->listen_id)
		rdma_destroy_id(conn->listen_id);
	if (conn->events)
		rdma_destroy_event_channel(conn->events);
	conn->id = NULL;
	conn->listen_id = NULL;
	conn->events = NULL;
	conn->cq = NULL;
	conn->pd = NULL;
}

/* Post wr with one SGE of [laddr, +len) in mr. */
static int post_send_wr(struct pal_conn *conn, struct ibv_send_wr *wr,
			struct ibv_mr *mr, void *laddr, size_t len)
{
	if (pal_wr_post_one(conn->id->qp, wr, mr, laddr, len))
		return conn_fail(conn, "ibv_post_send opcode %d", wr->opcode);
	return 0;
}

int pal_conn_post_rdma_flags(struct pal_conn *conn, enum ibv_wr_opcode opcode,
			     struct ibv_mr *mr, void *laddr, size_t len,
			     uint64_t raddr, uint32_t rkey, uint64_t wr_id,
			     unsigned int send_flags)
{
	struct ibv_send_wr wr = {
		.wr_id = wr_id,
		.opcode = opcode,
		.send_flags = send_flags,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};

	return post_send_wr(conn, &wr, mr, laddr, len);
}

int pal_conn_post_rdma(struct pal_conn *conn, enum ibv_wr_opcode opcode,
		       struct ibv_mr *mr, void *laddr, size_t len,
		       uint64_t raddr, uint32_t rkey, uint64_t wr_id)
{
	return pal_conn_post_rdma_flags(conn, opcode, mr, laddr, len, raddr,
					rkey, wr_id, IBV_SEND_SIGNALED);
}

int pal_conn_post_atomic(struct pal_conn *conn, enum ibv_wr_opcode opcode,
			 struct ibv_mr *mr, void *laddr, uint64_t raddr,
			 uint32_t rkey, uint64_t compare_add, uint64_t swap,
			 uint64_t wr_id)
{
	struct ibv_send_wr wr = {
		.wr_id = wr_id,
		.opcode = opcode,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.atomic = {
			.remote_addr = raddr,
			.compare_add = compare_add,
			.swap = swap,
			.rkey = rkey,
		},
	};

	return post_send_wr(conn, &wr, mr, laddr, sizeof(uint64_t));
}

int pal_conn_post_send_flags(struct pal_conn *conn, struct ibv_mr *mr,
			     void *laddr, size_t len, uint64_t wr_id,
			     unsigned int send_flags)
{
	struct ibv_send_wr wr = {
		.wr_id = wr_id,
		.opcode = IBV_WR_SEND,
		.send_flags = send_flags,
	};

	return post_send_wr(conn, &wr, mr, laddr, len);
}

int pal_conn_post_send(struct pal_conn *conn, struct ibv_mr *mr, void *laddr,
		       size_t len, uint64_t wr_id)
{
	return pal_conn_post_send_flags(conn, mr, laddr, len, wr_id,
					IBV_SEND_SIGNALED);
}

int pal_conn_post_recv(struct pal_conn *conn, struct ibv_mr *mr, void *laddr,
		       size_t len, uint64_t wr_id)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)laddr,
		.length = (uint32_t)len,
		.lkey = mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = wr_id,
		.sg_list = &sge,
		.num_sge = 1,
	};
	struct ibv_recv_wr *bad;
	int rc = ibv_post_recv(conn->id->qp, &wr, &bad);

	if (rc) {
		errno = rc;
		return conn_fail(conn, "ibv_post_recv");
	}
	return 0;
}

int pal_conn_poll(struct pal_conn *conn, struct ibv_wc *wc, int timeout_ms)
{
	/* No completion channel in the way, and no yield: a benchmark path. */
	if (!pal_wr_poll_one(conn->cq, wc, timeout_ms, false))
		return 0;
	if (errno == EIO)
		return conn_fail(conn, "ibv_poll_cq");
	return conn_fail(conn, "no completion within %d ms", timeout_ms);
}
