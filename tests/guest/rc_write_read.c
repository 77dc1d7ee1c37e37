// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RDMA WRITE and READ over one RC connection, data checked byte for byte.
 *
 *   rc_write_read --server ADDR [--port P] [--size BYTES] [--backend NAME] [--dmabuf]
 *   rc_write_read --client ADDR [--port P] [--size BYTES] [--backend NAME] [--dmabuf]
 *
 * The server fills its buffer with pattern SERVER_SEED and advertises it.
 * The client READs it and checks it, WRITEs its own pattern over it, READs
 * it back and checks again, then SENDs a "done" message; the server then
 * checks through its own CPU view that its buffer holds the client's
 * pattern. Exit status 0 only if every check passed on that side.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdma_pal/conn.h>
#include <rdma_pal/mem.h>
#include <rdma_pal/pattern.h>

#define SERVER_SEED 0x5e5e0001ULL
#define CLIENT_SEED 0xc11e0002ULL
#define CTRL_LEN 64
#define WAIT_MS 30000

struct options {
	bool server;
	const char *addr;
	const char *port;
	size_t size;
	const char *backend;
	bool dmabuf;
};

/* One registered buffer. */
struct region {
	struct pal_mem mem;
	struct ibv_mr *mr;
};

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --server ADDR | --client ADDR [options]\n"
		"  --port P        RDMA CM port (default 18515)\n"
		"  --size BYTES    buffer size (default 1048576)\n"
		"  --backend NAME  memory backend for the data buffers (default host)\n"
		"  --dmabuf        register the data buffers with ibv_reg_dmabuf_mr\n",
		prog);
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'S' },
		{ "client", required_argument, NULL, 'C' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, 'b' },
		{ "dmabuf", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	*o = (struct options){ .port = "18515", .size = 1 << 20, .backend = "host" };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': o->server = true; o->addr = optarg; break;
		case 'C': o->server = false; o->addr = optarg; break;
		case 'p': o->port = optarg; break;
		case 's': o->size = strtoull(optarg, NULL, 0); break;
		case 'b': o->backend = optarg; break;
		case 'd': o->dmabuf = true; break;
		default: usage(argv[0]); return -1;
		}
	}
	if (!o->addr || !o->size) {
		usage(argv[0]);
		return -1;
	}
	return 0;
}

static int region_init(struct region *r, struct ibv_pd *pd, const char *backend,
		       size_t size, bool dmabuf)
{
	const struct pal_mem_ops *ops = pal_mem_backend(backend);
	struct pal_mem_params params = { .size = size };
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;

	if (!ops) {
		fprintf(stderr, "unknown memory backend %s\n", backend);
		return -1;
	}
	if (pal_mem_alloc(&r->mem, ops, &params)) {
		fprintf(stderr, "%s\n", r->mem.err);
		return -1;
	}
	r->mr = pal_mem_reg(&r->mem, pd, 0, size, access, dmabuf);
	if (!r->mr) {
		fprintf(stderr, "%s\n", r->mem.err);
		return -1;
	}
	return 0;
}

static void region_fini(struct region *r)
{
	if (r->mr)
		ibv_dereg_mr(r->mr);
	pal_mem_free(&r->mem);
}

/* The address a peer uses for a region: its iova, which is its VA for ibv_reg_mr. */
static struct pal_remote_buf region_adv(const struct region *r)
{
	return (struct pal_remote_buf){
		.addr = (uintptr_t)r->mr->addr,
		.len = r->mr->length,
		.rkey = r->mr->rkey,
	};
}

static int wait_ok(struct pal_conn *conn, uint64_t wr_id, const char *what)
{
	struct ibv_wc wc;

	if (pal_conn_poll(conn, &wc, WAIT_MS)) {
		fprintf(stderr, "%s: %s\n", what, conn->err);
		return -1;
	}
	if (wc.status != IBV_WC_SUCCESS || wc.wr_id != wr_id) {
		fprintf(stderr, "%s: completion %s (wr_id %" PRIu64 ", wanted %" PRIu64 ")\n",
			what, ibv_wc_status_str(wc.status), wc.wr_id, wr_id);
		return -1;
	}
	return 0;
}

static int check(const void *buf, size_t len, uint64_t seed, const char *what)
{
	ssize_t bad = pal_pattern_check(buf, len, seed, 0);

	if (bad >= 0) {
		fprintf(stderr, "%s: byte %zd is 0x%02x, expected 0x%02x\n", what,
			bad, ((const uint8_t *)buf)[bad],
			pal_pattern_byte(seed, (size_t)bad));
		return -1;
	}
	printf("%s: %zu bytes match\n", what, len);
	return 0;
}

static int run_server(const struct options *o)
{
	struct pal_conn_attr attr = { .max_send_wr = 4, .max_recv_wr = 4, .max_rd_atomic = 4 };
	struct region data = { 0 }, ctrl = { 0 };
	struct pal_remote_buf adv;
	struct pal_conn conn;
	int rc = -1;

	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_listen(&conn, o->addr, o->port) || pal_conn_get_request(&conn)) {
		fprintf(stderr, "server: %s\n", conn.err);
		goto out;
	}
	if (region_init(&data, conn.pd, o->backend, o->size, o->dmabuf) ||
	    region_init(&ctrl, conn.pd, "host", CTRL_LEN, false))
		goto out;
	pal_pattern_fill(data.mem.cpu, o->size, SERVER_SEED, 0);
	if (pal_conn_post_recv(&conn, ctrl.mr, ctrl.mem.cpu, CTRL_LEN, 1)) {
		fprintf(stderr, "server: %s\n", conn.err);
		goto out;
	}
	adv = region_adv(&data);
	if (pal_conn_accept(&conn, &adv)) {
		fprintf(stderr, "server: %s\n", conn.err);
		goto out;
	}
	if (wait_ok(&conn, 1, "server: receive done"))
		goto out;
	rc = check(data.mem.cpu, o->size, CLIENT_SEED,
		   "server: buffer after the client's RDMA WRITE");
	pal_conn_wait_disconnect(&conn);
out:
	region_fini(&ctrl);
	region_fini(&data);
	pal_conn_destroy(&conn);
	return rc;
}

static int rdma_op(struct pal_conn *conn, enum ibv_wr_opcode op, struct region *r,
		   uint64_t wr_id, const char *what)
{
	if (pal_conn_post_rdma(conn, op, r->mr, r->mem.cpu, r->mem.size,
			       conn->peer.addr, conn->peer.rkey, wr_id)) {
		fprintf(stderr, "%s: %s\n", what, conn->err);
		return -1;
	}
	return wait_ok(conn, wr_id, what);
}

static int run_client(const struct options *o)
{
	struct pal_conn_attr attr = { .max_send_wr = 4, .max_recv_wr = 4, .max_rd_atomic = 4 };
	struct region src = { 0 }, dst = { 0 }, ctrl = { 0 };
	struct pal_remote_buf adv;
	struct pal_conn conn;
	int rc = -1;

	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_resolve(&conn, o->addr, o->port)) {
		fprintf(stderr, "client: %s\n", conn.err);
		goto out;
	}
	if (region_init(&src, conn.pd, o->backend, o->size, o->dmabuf) ||
	    region_init(&dst, conn.pd, o->backend, o->size, o->dmabuf) ||
	    region_init(&ctrl, conn.pd, "host", CTRL_LEN, false))
		goto out;
	pal_pattern_fill(src.mem.cpu, o->size, CLIENT_SEED, 0);
	memset(dst.mem.cpu, 0, o->size);
	adv = region_adv(&src);
	if (pal_conn_connect(&conn, &adv)) {
		fprintf(stderr, "client: %s\n", conn.err);
		goto out;
	}
	if (conn.peer.len < o->size) {
		fprintf(stderr, "client: server buffer is %" PRIu64 " bytes, wanted %zu\n",
			conn.peer.len, o->size);
		goto out;
	}
	if (rdma_op(&conn, IBV_WR_RDMA_READ, &dst, 1, "client: RDMA READ") ||
	    check(dst.mem.cpu, o->size, SERVER_SEED, "client: RDMA READ of the server's buffer") ||
	    rdma_op(&conn, IBV_WR_RDMA_WRITE, &src, 2, "client: RDMA WRITE"))
		goto out;
	memset(dst.mem.cpu, 0, o->size);
	if (rdma_op(&conn, IBV_WR_RDMA_READ, &dst, 3, "client: RDMA READ after WRITE") ||
	    check(dst.mem.cpu, o->size, CLIENT_SEED, "client: RDMA READ after WRITE"))
		goto out;
	snprintf(ctrl.mem.cpu, CTRL_LEN, "done");
	if (pal_conn_post_send(&conn, ctrl.mr, ctrl.mem.cpu, CTRL_LEN, 4)) {
		fprintf(stderr, "client: %s\n", conn.err);
		goto out;
	}
	rc = wait_ok(&conn, 4, "client: send done");
out:
	region_fini(&ctrl);
	region_fini(&dst);
	region_fini(&src);
	pal_conn_destroy(&conn);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;

	if (parse(argc, argv, &o))
		return 2;
	return (o.server ? run_server(&o) : run_client(&o)) ? 1 : 0;
}
