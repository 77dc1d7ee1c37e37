/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Two RC QPs on one device, connected to each other: the requester posts
 * RDMA WRITE/READ, the responder's MRs are their targets. Traffic between
 * them takes the device's full requester and responder paths (on rxe, its
 * loopback; on siw, a TCP connection to the device's own address), so one
 * process can race registration, revoke and move against traffic without
 * a peer. RoCE QPs are connected by hand through the device's IPv4 GID;
 * iWARP QPs, which only a connection manager can connect, through
 * rdma_cm.
 */
#ifndef RDMA_PAL_LOOP_H
#define RDMA_PAL_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>
#include <netinet/in.h>
#include <rdma/rdma_cma.h>

struct pal_loop {
	struct ibv_context *ctx;
	struct ibv_pd *pd;	/* for the MRs of both QPs */
	struct ibv_cq *cq;	/* requester completions */
	struct ibv_qp *req;
	struct ibv_qp *resp;
	union ibv_gid gid;
	int gid_index;
	uint32_t max_wr;
	/*
	 * RoCE: local ACK timeout of both QPs, 4.096 us << ack_timeout (14
	 * by default: 67 ms); a change applies from the next pal_loop_reset().
	 */
	uint8_t ack_timeout;
	unsigned long reset_retries;	/* resets that had to start over */
	/*
	 * iWARP only: the QPs belong to req_id and resp_id, connected
	 * through listen_id on addr; ctx is listen_id's (rdma_cm's own).
	 */
	bool iwarp;
	struct rdma_event_channel *cm_events;
	struct rdma_cm_id *listen_id;
	struct rdma_cm_id *req_id;
	struct rdma_cm_id *resp_id;
	struct sockaddr_in addr;
	char err[256];
};

/*
 * Open device dev_name (NULL: the first one), find its RoCE v2 IPv4 GID
 * (iWARP: the IPv4 address of its netdev) and connect two RC QPs of up to
 * max_wr outstanding requests through it. Returns 0, or -1 with errno set
 * and loop->err saying which step failed.
 */
int pal_loop_open(struct pal_loop *loop, const char *dev_name,
		  uint32_t max_wr);
/*
 * Bring both QPs back to RTS after an error completion moved them to the
 * error state (iWARP: replace them by two newly connected ones).
 * Completions of requests posted before must have been polled (flushed)
 * first: a reset drops the rest without completing them.
 */
int pal_loop_reset(struct pal_loop *loop);
void pal_loop_close(struct pal_loop *loop);

/* Post one signaled RDMA WRITE or READ of [laddr, +len) against raddr. */
int pal_loop_post_rdma(struct pal_loop *loop, enum ibv_wr_opcode opcode,
		       struct ibv_mr *mr, void *laddr, size_t len,
		       uint64_t raddr, uint32_t rkey, uint64_t wr_id);
/*
 * Wait for one requester completion. Returns 0 with *wc filled (its status
 * may be an error), or -1 with errno ETIMEDOUT after timeout_ms.
 */
int pal_loop_poll(struct pal_loop *loop, struct ibv_wc *wc, int timeout_ms);

#endif
