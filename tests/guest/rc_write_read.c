// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RDMA WRITE, READ, SEND/RECV and atomics over one RC connection, data
 * checked byte for byte through the memory's own CPU view.
 *
 *   rc_write_read --server ADDR [options]
 *   rc_write_read --client ADDR [options]
 *
 * Both sides take their data buffers from --backend, registered with
 * ibv_reg_dmabuf_mr() when --dmabuf is given. The server fills its buffer
 * with pattern SERVER_SEED and advertises it. The client READs it and checks
 * it, WRITEs its own pattern over it, READs it back and checks again; with
 * --atomics it then runs a FETCH_AND_ADD and a CMP_AND_SWP on the server's
 * first word, checking the values returned and leaving the word as it was;
 * with --atomics-refused (a device without atomics, such as siw) posting a
 * FETCH_AND_ADD must fail with EINVAL, and the word must stay as it was.
 * Last, it SENDs the first CTRL_LEN bytes of its buffer into a receive
 * buffer the server took from the same backend. The server checks, through
 * its CPU views (for dma-bufs an mmap of the dma-buf itself, not the MR),
 * that the message and its whole buffer hold the client's pattern. Exit
 * status 0 only if every check passed on that side.
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

#include <dma-buf-pal-test-uapi.h>

#define SERVER_SEED 0x5e5e0001ULL
#define CLIENT_SEED 0xc11e0002ULL
#define CTRL_LEN 64
#define RECV_ROOM 4096	/* memory after the server's data for its receive */
/*
 * Per completion. A 4 MiB READ takes seconds on the debug kernel under TCG
 * and several times that when the host is busy: a stall still fails, later.
 */
#define WAIT_MS 90000

struct options {
	bool server;
	const char *addr;
	const char *port;
	size_t size;
	const char *backend;
	const char *client_backend;	/* the client's buffers; default backend */
	struct pal_mem_params params;	/* backend options, size aside */
	bool dmabuf;
	bool on_demand;
	bool atomics;
	bool atomics_refused;
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
		"  --client-backend NAME  ... for the client's, if different\n"
		"  --dmabuf        register the data buffers with ibv_reg_dmabuf_mr\n"
		"  --on-demand     ... with IBV_ACCESS_ON_DEMAND (not pinned)\n"
		"  --atomics       also run remote atomics on the server's buffer\n"
		"  --atomics-refused  the device has none: posting one must fail (EINVAL)\n"
		"  --extent-size B, --shuffle SEED, --mode both|pal|sgt: testexp layout\n"
		"  --pci-device BDF, --bar N: vfio backend\n",
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
		{ "on-demand", no_argument, NULL, 'o' },
		{ "atomics", no_argument, NULL, 'a' },
		{ "atomics-refused", no_argument, NULL, 'A' },
		{ "client-backend", required_argument, NULL, 'c' },
		{ "extent-size", required_argument, NULL, 'x' },
		{ "shuffle", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "pci-device", required_argument, NULL, 'P' },
		{ "bar", required_argument, NULL, 'B' },
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
		case 'o': o->on_demand = true; break;
		case 'a': o->atomics = true; break;
		case 'A': o->atomics_refused = true; break;
		case 'c': o->client_backend = optarg; break;
		case 'x': o->params.extent_size = strtoull(optarg, NULL, 0); break;
		case 'r':
			o->params.shuffle = true;
			o->params.seed = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			o->params.mode = !strcmp(optarg, "pal") ? DMA_BUF_PAL_TEST_MODE_PAL :
					 !strcmp(optarg, "sgt") ? DMA_BUF_PAL_TEST_MODE_SGT :
								  DMA_BUF_PAL_TEST_MODE_BOTH;
			break;
		case 'P': o->params.pci_device = optarg; break;
		case 'B': o->params.bar = strtoul(optarg, NULL, 0); break;
		default: usage(argv[0]); return -1;
		}
	}
	if (!o->addr || !o->size) {
		usage(argv[0]);
		return -1;
	}
	return 0;
}

/* Access flags of the data MRs. */
static int data_access(const struct options *o)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;

	if (o->atomics)
		access |= IBV_ACCESS_REMOTE_ATOMIC;
	if (o->on_demand)
		access |= IBV_ACCESS_ON_DEMAND;
	return access;
}

/*
 * A data region as the options say: size bytes of memory, of which the
 * first reg_len are registered.
 */
static int region_init(struct region *r, struct ibv_pd *pd,
		       const struct options *o, size_t size, size_t reg_len)
{
	const struct pal_mem_ops *ops = pal_mem_backend(o->backend);
	struct pal_mem_params params = o->params;

	if (!ops) {
		fprintf(stderr, "unknown memory backend %s\n", o->backend);
		return -1;
	}
	params.size = size;
	if (pal_mem_alloc(&r->mem, ops, &params)) {
		fprintf(stderr, "%s\n", r->mem.err);
		return -1;
	}
	r->mr = pal_mem_reg(&r->mem, pd, 0, reg_len, data_access(o), o->dmabuf);
	if (!r->mr) {
		fprintf(stderr, "%s\n", r->mem.err);
		return -1;
	}
	return 0;
}

/* The address a work request uses for byte off of a region: MR addresses. */
static void *region_addr(const struct region *r, size_t off)
{
	return (char *)r->mr->addr + off;
}

static void region_fini(struct region *r)
{
	if (r->mr)
		ibv_dereg_mr(r->mr);
	pal_mem_free(&r->mem);
}

/*
 * The address a peer uses for a region: its iova, which is its VA for
 * ibv_reg_mr and the dma-buf offset for ibv_reg_dmabuf_mr.
 */
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
	struct region data = { 0 };
	struct ibv_mr *recv_mr = NULL;
	struct pal_remote_buf adv;
	uint8_t *recv_cpu;
	struct pal_conn conn;
	int rc = -1;

	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_listen(&conn, o->addr, o->port) || pal_conn_get_request(&conn)) {
		fprintf(stderr, "server: %s\n", conn.err);
		goto out;
	}
	/*
	 * The receive buffer is a second MR on the page after the data, so
	 * that it is the same kind of memory even where a backend has only
	 * one buffer (a vfio BAR).
	 */
	if (region_init(&data, conn.pd, o, o->size + RECV_ROOM, o->size))
		goto out;
	recv_mr = pal_mem_reg(&data.mem, conn.pd, o->size, CTRL_LEN,
			      data_access(o), o->dmabuf);
	if (!recv_mr) {
		fprintf(stderr, "server: receive MR: %s\n", data.mem.err);
		goto out;
	}
	recv_cpu = (uint8_t *)data.mem.cpu + o->size;
	pal_pattern_fill(data.mem.cpu, o->size, SERVER_SEED, 0);
	memset(recv_cpu, 0, CTRL_LEN);
	if (pal_conn_post_recv(&conn, recv_mr, recv_mr->addr, CTRL_LEN, 1)) {
		fprintf(stderr, "server: %s\n", conn.err);
		goto out;
	}
	adv = region_adv(&data);
	if (pal_conn_accept(&conn, &adv)) {
		fprintf(stderr, "server: %s\n", conn.err);
		goto out;
	}
	if (wait_ok(&conn, 1, "server: receive the client's message") ||
	    check(recv_cpu, CTRL_LEN, CLIENT_SEED, "server: received message"))
		goto out;
	rc = check(data.mem.cpu, o->size, CLIENT_SEED,
		   "server: buffer after the client's RDMA WRITE");
	pal_conn_wait_disconnect(&conn);
out:
	if (recv_mr)
		ibv_dereg_mr(recv_mr);
	region_fini(&data);
	pal_conn_destroy(&conn);
	return rc;
}

static int rdma_op(struct pal_conn *conn, enum ibv_wr_opcode op, struct region *r,
		   uint64_t wr_id, const char *what)
{
	if (pal_conn_post_rdma(conn, op, r->mr, region_addr(r, 0), r->mem.size,
			       conn->peer.addr, conn->peer.rkey, wr_id)) {
		fprintf(stderr, "%s: %s\n", what, conn->err);
		return -1;
	}
	return wait_ok(conn, wr_id, what);
}

/* One atomic on the server's first word; *orig gets the value it had. */
static int atomic_op(struct pal_conn *conn, enum ibv_wr_opcode op,
		     struct region *res, uint64_t compare_add, uint64_t swap,
		     uint64_t wr_id, uint64_t *orig, const char *what)
{
	if (pal_conn_post_atomic(conn, op, res->mr, region_addr(res, 0),
				 conn->peer.addr, conn->peer.rkey, compare_add,
				 swap, wr_id)) {
		fprintf(stderr, "%s: %s\n", what, conn->err);
		return -1;
	}
	if (wait_ok(conn, wr_id, what))
		return -1;
	memcpy(orig, res->mem.cpu, sizeof(*orig));
	return 0;
}

/*
 * FETCH_AND_ADD then CMP_AND_SWP back on the server's first word, which
 * holds the client's pattern: both must return the expected old value, and
 * the word must end as it started.
 */
static int atomics(struct pal_conn *conn, struct region *res,
		   const struct region *src)
{
	const uint64_t add = 0x0101010101010101ULL;
	uint64_t want, got;

	memcpy(&want, src->mem.cpu, sizeof(want));
	if (atomic_op(conn, IBV_WR_ATOMIC_FETCH_AND_ADD, res, add, 0, 10, &got,
		      "client: FETCH_AND_ADD"))
		return -1;
	if (got != want) {
		fprintf(stderr, "client: FETCH_AND_ADD returned %#" PRIx64 ", expected %#" PRIx64 "\n",
			got, want);
		return -1;
	}
	if (atomic_op(conn, IBV_WR_ATOMIC_CMP_AND_SWP, res, want + add, want, 11,
		      &got, "client: CMP_AND_SWP"))
		return -1;
	if (got != want + add) {
		fprintf(stderr, "client: CMP_AND_SWP returned %#" PRIx64 ", expected %#" PRIx64 "\n",
			got, want + add);
		return -1;
	}
	printf("client: FETCH_AND_ADD and CMP_AND_SWP returned the expected values\n");
	return 0;
}

/*
 * A device without atomics refuses to post one. The server's final check
 * of its whole buffer shows that its first word was not changed either.
 */
static int atomics_refused(struct pal_conn *conn, struct region *res)
{
	errno = 0;
	if (!pal_conn_post_atomic(conn, IBV_WR_ATOMIC_FETCH_AND_ADD, res->mr,
				  region_addr(res, 0), conn->peer.addr,
				  conn->peer.rkey, 1, 0, 10)) {
		fprintf(stderr, "client: FETCH_AND_ADD was posted on a device without atomics\n");
		return -1;
	}
	if (errno != EINVAL) {
		fprintf(stderr, "client: FETCH_AND_ADD refused with %s, expected EINVAL\n",
			strerror(errno));
		return -1;
	}
	printf("client: FETCH_AND_ADD refused at post (EINVAL): the device has no atomics\n");
	return 0;
}

static int run_client(const struct options *o)
{
	struct pal_conn_attr attr = { .max_send_wr = 4, .max_recv_wr = 4, .max_rd_atomic = 4 };
	struct region src = { 0 }, dst = { 0 }, res = { 0 };
	struct options local = *o;
	struct pal_remote_buf adv;
	struct pal_conn conn;
	int rc = -1;

	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_resolve(&conn, o->addr, o->port)) {
		fprintf(stderr, "client: %s\n", conn.err);
		goto out;
	}
	if (o->client_backend)
		local.backend = o->client_backend;
	/* Atomic results land in the same kind of memory as the data. */
	if (region_init(&src, conn.pd, &local, o->size, o->size) ||
	    region_init(&dst, conn.pd, &local, o->size, o->size) ||
	    region_init(&res, conn.pd, &local, 4096, sizeof(uint64_t)))
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
	if (o->atomics && atomics(&conn, &res, &src))
		goto out;
	if (o->atomics_refused && atomics_refused(&conn, &res))
		goto out;
	/* The message is the start of the client's pattern, sent from its MR. */
	if (pal_conn_post_send(&conn, src.mr, region_addr(&src, 0), CTRL_LEN, 4)) {
		fprintf(stderr, "client: %s\n", conn.err);
		goto out;
	}
	rc = wait_ok(&conn, 4, "client: SEND");
out:
	region_fini(&res);
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
