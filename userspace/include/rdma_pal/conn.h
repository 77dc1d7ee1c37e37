/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One RC connection set up with librdmacm. Each side advertises one buffer
 * (address, rkey, length) in the connection's private data, so a client can
 * RDMA WRITE/READ the server's buffer right after connecting.
 *
 * Server: pal_conn_listen() -> pal_conn_get_request() -> register memory on
 * conn->pd -> pal_conn_accept(). Client: pal_conn_resolve() -> register on
 * conn->pd -> pal_conn_connect(). Both: pal_conn_destroy().
 */
#ifndef RDMA_PAL_CONN_H
#define RDMA_PAL_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

struct pal_remote_buf {
	uint64_t addr;
	uint64_t len;
	uint32_t rkey;
};

struct pal_conn_attr {
	uint32_t max_send_wr;
	uint32_t max_recv_wr;
	uint8_t max_rd_atomic;	/* outstanding RDMA READs/atomics */
	int timeout_ms;		/* for each connection-manager step */
};

struct pal_conn {
	struct pal_conn_attr attr;
	struct rdma_event_channel *events;
	struct rdma_cm_id *listen_id;
	struct rdma_cm_id *id;		/* the connected endpoint */
	struct ibv_pd *pd;
	struct ibv_cq *cq;		/* send and receive completions */
	struct pal_remote_buf peer;	/* what the other side advertised */
	char err[256];
};

void pal_conn_init(struct pal_conn *conn, const struct pal_conn_attr *attr);
int pal_conn_listen(struct pal_conn *conn, const char *addr, const char *port);
int pal_conn_get_request(struct pal_conn *conn);
int pal_conn_accept(struct pal_conn *conn, const struct pal_remote_buf *local);
int pal_conn_resolve(struct pal_conn *conn, const char *addr, const char *port);
int pal_conn_connect(struct pal_conn *conn, const struct pal_remote_buf *local);
/* Wait for the peer to disconnect (server side of an orderly shutdown). */
int pal_conn_wait_disconnect(struct pal_conn *conn);
void pal_conn_destroy(struct pal_conn *conn);

/* Post one signaled RDMA WRITE or READ of [laddr, +len) against the peer. */
int pal_conn_post_rdma(struct pal_conn *conn, enum ibv_wr_opcode opcode,
		       struct ibv_mr *mr, void *laddr, size_t len,
		       uint64_t raddr, uint32_t rkey, uint64_t wr_id);
/*
 * Post one signaled atomic (IBV_WR_ATOMIC_FETCH_AND_ADD or _CMP_AND_SWP) on
 * the 8 bytes at raddr; the original value lands at laddr.
 */
int pal_conn_post_atomic(struct pal_conn *conn, enum ibv_wr_opcode opcode,
			 struct ibv_mr *mr, void *laddr, uint64_t raddr,
			 uint32_t rkey, uint64_t compare_add, uint64_t swap,
			 uint64_t wr_id);
int pal_conn_post_send(struct pal_conn *conn, struct ibv_mr *mr, void *laddr,
		       size_t len, uint64_t wr_id);
/*
 * As pal_conn_post_rdma() and pal_conn_post_send(), with the given send
 * flags. A work request without IBV_SEND_SIGNALED completes silently; the
 * next signaled one reports it as well, since an RC send queue completes
 * in order (perftest's CQ moderation).
 */
int pal_conn_post_rdma_flags(struct pal_conn *conn, enum ibv_wr_opcode opcode,
			     struct ibv_mr *mr, void *laddr, size_t len,
			     uint64_t raddr, uint32_t rkey, uint64_t wr_id,
			     unsigned int send_flags);
int pal_conn_post_send_flags(struct pal_conn *conn, struct ibv_mr *mr,
			     void *laddr, size_t len, uint64_t wr_id,
			     unsigned int send_flags);
int pal_conn_post_recv(struct pal_conn *conn, struct ibv_mr *mr, void *laddr,
		       size_t len, uint64_t wr_id);

/*
 * Wait for one completion. Returns 0 with *wc filled (wc->status may be an
 * error), or -1 with errno ETIMEDOUT when none came within timeout_ms.
 */
int pal_conn_poll(struct pal_conn *conn, struct ibv_wc *wc, int timeout_ms);

#endif
