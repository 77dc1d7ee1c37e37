// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
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

/* Both QPs: requests of one SGE, completions on the one CQ. */
static struct ibv_qp_init_attr qp_init_attr(const struct pal_loop *loop)
{
	return (struct ibv_qp_init_attr){
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
}

static struct ibv_qp *create_qp(struct pal_loop *loop)
{
	struct ibv_qp_init_attr attr = qp_init_attr(loop);

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

static int roce_reset(struct pal_loop *loop)
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

/* --- iWARP: QPs connected through rdma_cm -------------------------------- */

#define CM_TIMEOUT_MS 10000
/* As in conn.c: a missed neighbour update costs the resolve timeout. */
#define CM_RESOLVE_MS 2000

/* The IPv4 address of the netdev whose MAC is the device's GID (siw's). */
static int find_iwarp_addr(struct pal_loop *loop, struct ibv_context *ctx)
{
	char ifname[IF_NAMESIZE] = "";
	struct ifaddrs *list, *i;
	union ibv_gid gid;

	if (ibv_query_gid(ctx, LOOP_PORT, 0, &gid))
		return loop_fail(loop, "ibv_query_gid");
	if (getifaddrs(&list))
		return loop_fail(loop, "getifaddrs");
	for (i = list; i; i = i->ifa_next) {
		const struct sockaddr_ll *ll = (const void *)i->ifa_addr;

		if (ll && ll->sll_family == AF_PACKET && ll->sll_halen == 6 &&
		    !memcmp(ll->sll_addr, gid.raw, 6)) {
			snprintf(ifname, sizeof(ifname), "%s", i->ifa_name);
			break;
		}
	}
	for (i = list; i && ifname[0]; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    !strcmp(i->ifa_name, ifname)) {
			memcpy(&loop->addr, i->ifa_addr, sizeof(loop->addr));
			break;
		}
	}
	freeifaddrs(list);
	if (!loop->addr.sin_addr.s_addr) {
		errno = ENOENT;
		return loop_fail(loop, "no IPv4 address on the netdev of %s%s%s",
				 ibv_get_device_name(ctx->device),
				 ifname[0] ? ", " : "", ifname);
	}
	return 0;
}

/*
 * The next event of type want for id (NULL: any id). Events of other ids
 * (a peer's DISCONNECTED after an error) are acknowledged and dropped:
 * both ends are ours and are replaced on reset anyway.
 */
static int cm_wait(struct pal_loop *loop, enum rdma_cm_event_type want,
		   struct rdma_cm_id *id, struct rdma_cm_event **out)
{
	struct pollfd pfd = { .fd = loop->cm_events->fd, .events = POLLIN };
	struct rdma_cm_event *ev;

	for (;;) {
		int n = poll(&pfd, 1, CM_TIMEOUT_MS);

		if (n == 0)
			errno = ETIMEDOUT;
		if (n <= 0)
			return loop_fail(loop, "waiting for %s", rdma_event_str(want));
		if (rdma_get_cm_event(loop->cm_events, &ev))
			return loop_fail(loop, "rdma_get_cm_event");
		if (ev->event == want && (!id || ev->id == id)) {
			*out = ev;
			return 0;
		}
		if (ev->id == id || (!id && ev->listen_id == loop->listen_id)) {
			errno = ev->status < 0 ? -ev->status : ECONNREFUSED;
			loop_fail(loop, "wanted %s, got %s (status %d)",
				  rdma_event_str(want), rdma_event_str(ev->event),
				  ev->status);
			rdma_ack_cm_event(ev);
			return -1;
		}
		rdma_ack_cm_event(ev);
	}
}

static int cm_wait_ack(struct pal_loop *loop, enum rdma_cm_event_type want,
		       struct rdma_cm_id *id)
{
	struct rdma_cm_event *ev;

	if (cm_wait(loop, want, id, &ev))
		return -1;
	rdma_ack_cm_event(ev);
	return 0;
}

/* Both ends report ESTABLISHED, in either order. */
static int cm_wait_established(struct pal_loop *loop)
{
	struct pollfd pfd = { .fd = loop->cm_events->fd, .events = POLLIN };
	bool req = false, resp = false;
	struct rdma_cm_event *ev;

	while (!req || !resp) {
		int n = poll(&pfd, 1, CM_TIMEOUT_MS);

		if (n == 0)
			errno = ETIMEDOUT;
		if (n <= 0)
			return loop_fail(loop, "waiting for ESTABLISHED");
		if (rdma_get_cm_event(loop->cm_events, &ev))
			return loop_fail(loop, "rdma_get_cm_event");
		if (ev->event == RDMA_CM_EVENT_ESTABLISHED) {
			req |= ev->id == loop->req_id;
			resp |= ev->id == loop->resp_id;
		} else if (ev->id == loop->req_id || ev->id == loop->resp_id) {
			errno = ev->status < 0 ? -ev->status : ECONNREFUSED;
			loop_fail(loop, "wanted ESTABLISHED, got %s (status %d)",
				  rdma_event_str(ev->event), ev->status);
			rdma_ack_cm_event(ev);
			return -1;
		}
		rdma_ack_cm_event(ev);
	}
	return 0;
}

static int cm_create_qp(struct pal_loop *loop, struct rdma_cm_id *id)
{
	struct ibv_qp_init_attr attr = qp_init_attr(loop);

	if (rdma_create_qp(id, loop->pd, &attr))
		return loop_fail(loop, "rdma_create_qp");
	return 0;
}

static void iwarp_drop_qps(struct pal_loop *loop)
{
	struct rdma_cm_id **id[2] = { &loop->req_id, &loop->resp_id };
	int i;

	for (i = 0; i < 2; i++) {
		if (!*id[i])
			continue;
		rdma_disconnect(*id[i]);
		if ((*id[i])->qp)
			rdma_destroy_qp(*id[i]);
		rdma_destroy_id(*id[i]);
		*id[i] = NULL;
	}
	loop->req = NULL;
	loop->resp = NULL;
}

/* Connect a new requester QP to a new responder QP through listen_id. */
static int iwarp_connect(struct pal_loop *loop)
{
	struct rdma_conn_param param = {
		.responder_resources = 16,
		.initiator_depth = 16,
	};
	struct sockaddr_in dst = loop->addr;
	struct rdma_cm_event *ev;

	dst.sin_port = rdma_get_src_port(loop->listen_id);
	if (rdma_create_id(loop->cm_events, &loop->req_id, NULL, RDMA_PS_TCP))
		return loop_fail(loop, "rdma_create_id");
	if (rdma_resolve_addr(loop->req_id, NULL, (struct sockaddr *)&dst,
			      CM_RESOLVE_MS))
		return loop_fail(loop, "rdma_resolve_addr");
	if (cm_wait_ack(loop, RDMA_CM_EVENT_ADDR_RESOLVED, loop->req_id))
		return -1;
	if (rdma_resolve_route(loop->req_id, CM_RESOLVE_MS))
		return loop_fail(loop, "rdma_resolve_route");
	if (cm_wait_ack(loop, RDMA_CM_EVENT_ROUTE_RESOLVED, loop->req_id))
		return -1;
	if (loop->req_id->verbs != loop->ctx) {
		errno = EXDEV;
		return loop_fail(loop, "the route to %s leaves the device",
				 ibv_get_device_name(loop->ctx->device));
	}
	if (cm_create_qp(loop, loop->req_id))
		return -1;
	if (rdma_connect(loop->req_id, &param))
		return loop_fail(loop, "rdma_connect");
	if (cm_wait(loop, RDMA_CM_EVENT_CONNECT_REQUEST, NULL, &ev))
		return -1;
	loop->resp_id = ev->id;
	rdma_ack_cm_event(ev);
	if (cm_create_qp(loop, loop->resp_id))
		return -1;
	if (rdma_accept(loop->resp_id, &param))
		return loop_fail(loop, "rdma_accept");
	if (cm_wait_established(loop))
		return -1;
	loop->req = loop->req_id->qp;
	loop->resp = loop->resp_id->qp;
	return 0;
}

static int iwarp_reset(struct pal_loop *loop)
{
	/* A QP in the error state cannot go back to RTS on iWARP. */
	iwarp_drop_qps(loop);
	if (!iwarp_connect(loop))
		return 0;
	iwarp_drop_qps(loop);
	return -1;
}

/* Bind a listener to the device's address: rdma_cm opens the device. */
static int iwarp_open(struct pal_loop *loop, struct ibv_context *probe)
{
	const char *name = ibv_get_device_name(probe->device);

	if (find_iwarp_addr(loop, probe))
		return -1;
	loop->cm_events = rdma_create_event_channel();
	if (!loop->cm_events)
		return loop_fail(loop, "rdma_create_event_channel");
	if (rdma_create_id(loop->cm_events, &loop->listen_id, NULL, RDMA_PS_TCP))
		return loop_fail(loop, "rdma_create_id");
	loop->addr.sin_port = 0;
	if (rdma_bind_addr(loop->listen_id, (struct sockaddr *)&loop->addr))
		return loop_fail(loop, "rdma_bind_addr");
	if (!loop->listen_id->verbs ||
	    strcmp(ibv_get_device_name(loop->listen_id->verbs->device), name)) {
		errno = EXDEV;
		return loop_fail(loop, "the address of %s belongs to another device", name);
	}
	if (rdma_listen(loop->listen_id, 1))
		return loop_fail(loop, "rdma_listen");
	loop->ctx = loop->listen_id->verbs;
	return 0;
}

/* --- both ---------------------------------------------------------------- */

int pal_loop_reset(struct pal_loop *loop)
{
	return loop->iwarp ? iwarp_reset(loop) : roce_reset(loop);
}

int pal_loop_open(struct pal_loop *loop, const char *dev_name,
		  uint32_t max_wr)
{
	struct ibv_context *probe;

	memset(loop, 0, sizeof(*loop));
	loop->max_wr = max_wr;
	loop->ack_timeout = 14;		/* 67 ms */
	errno = 0;
	probe = open_device(dev_name);
	if (!probe)
		return loop_fail(loop, "open device %s", dev_name ? dev_name : "(first)");
	loop->iwarp = probe->device->transport_type == IBV_TRANSPORT_IWARP;
	if (loop->iwarp) {
		/* rdma_cm uses a context of its own: the probe only looks. */
		int rc = iwarp_open(loop, probe);

		ibv_close_device(probe);
		if (rc)
			goto err;
	} else {
		loop->ctx = probe;
		if (find_gid(loop))
			goto err;
	}
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
	if (loop->iwarp) {
		if (iwarp_reset(loop))
			goto err;
		return 0;
	}
	loop->req = create_qp(loop);
	loop->resp = loop->req ? create_qp(loop) : NULL;
	if (!loop->resp) {
		loop_fail(loop, "ibv_create_qp");
		goto err;
	}
	if (roce_reset(loop))
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
	if (loop->iwarp) {
		iwarp_drop_qps(loop);
	} else {
		if (loop->resp)
			ibv_destroy_qp(loop->resp);
		if (loop->req)
			ibv_destroy_qp(loop->req);
	}
	if (loop->cq)
		ibv_destroy_cq(loop->cq);
	if (loop->pd)
		ibv_dealloc_pd(loop->pd);
	if (loop->iwarp) {
		/* The context is rdma_cm's, closed with its last id. */
		if (loop->listen_id)
			rdma_destroy_id(loop->listen_id);
		if (loop->cm_events)
			rdma_destroy_event_channel(loop->cm_events);
	} else if (loop->ctx) {
		ibv_close_device(loop->ctx);
	}
	loop->listen_id = NULL;
	loop->cm_events = NULL;
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
		.send_flags = IBV_SEND_SIGNALED,
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
