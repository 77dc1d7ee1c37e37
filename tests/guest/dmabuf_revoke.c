// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Revoke or move a dma-buf MR's buffer while a peer keeps writing to it.
 *
 *   dmabuf_revoke --server ADDR --action revoke|move|move-pinned [options]
 *   dmabuf_revoke --client ADDR --expect error|success [options]
 *
 * The server registers a test exporter buffer with ibv_reg_dmabuf_mr()
 * (--on-demand: with IBV_ACCESS_ON_DEMAND) and advertises it; the client
 * RDMA WRITEs its pattern over it and READs it back, in a loop.
 *
 * revoke: once the client has SENT "started" after its first correct
 * WRITE+READ pair (so the MR is known to work), the server revokes the
 * buffer under the traffic, requires that no importer kept a mapping,
 * poisons the buffer through its CPU view and, once the client is gone,
 * requires the poison to be intact: nothing was written after the revoke
 * returned. The client must get an error completion after at least one
 * correct pair (and no wrong data before it); with --expect-status, one
 * of the statuses listed (the device's way of saying that the peer refused
 * the access, not, say, a retry timeout of a peer that stopped answering).
 *
 * move: once the client has SENT "started" after its first correct pair,
 * the server moves the buffer three times under the traffic and then SENDs
 * "moved". The client goes on until it has done at least MIN_PAIRS_AFTER
 * correct pairs after that message, so the moves fall between correct
 * traffic before and after them; every operation must succeed with correct
 * data. It then writes a final pattern and SENDs "done"; the server checks
 * the final pattern through the CPU view, which follows the moves.
 *
 * move-pinned: the same, but each move of the pinned buffer must fail with
 * EBUSY; traffic goes on unharmed.
 *
 * Both sides finally require the exporter to report no list still mapped
 * and, after deregistration, no attachment left.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rdma_pal/conn.h>
#include <rdma_pal/errname.h>
#include <rdma_pal/mem.h>
#include <rdma_pal/pattern.h>
#include <rdma_pal/testexp.h>

#define CLIENT_SEED 0xc11e0003ULL
#define FINAL_SEED 0xf1a10004ULL
#define POISON 0xa5
#define CTRL_LEN 64
#define WAIT_MS 30000
/* Correct WRITE+READ pairs the client needs after the server's moves. */
#define MIN_PAIRS_AFTER 3
/* Work request ids of the messages. */
#define WR_STARTED 999999
#define WR_MOVED 2000000

enum action { ACT_REVOKE, ACT_MOVE, ACT_MOVE_PINNED };

struct options {
	bool server;
	const char *addr;
	const char *port;
	size_t size;
	size_t extent_size;
	bool on_demand;
	enum action action;
	bool expect_error;
	/* Bit i set: completion status i is the error expected. */
	unsigned long long expect_status;
};

/* The completion statuses --expect-status may name, by their enum names. */
static const struct {
	const char *name;
	enum ibv_wc_status status;
} status_names[] = {
	{ "REM_ACCESS_ERR", IBV_WC_REM_ACCESS_ERR },
	{ "REM_OP_ERR", IBV_WC_REM_OP_ERR },
	{ "REM_INV_REQ_ERR", IBV_WC_REM_INV_REQ_ERR },
	{ "WR_FLUSH_ERR", IBV_WC_WR_FLUSH_ERR },
	{ "LOC_QP_OP_ERR", IBV_WC_LOC_QP_OP_ERR },
	{ "LOC_PROT_ERR", IBV_WC_LOC_PROT_ERR },
	{ "RETRY_EXC_ERR", IBV_WC_RETRY_EXC_ERR },
	{ "GENERAL_ERR", IBV_WC_GENERAL_ERR },
};

/* Parse "NAME[,NAME...]" into a bit set of statuses; 0 if a name is unknown. */
static unsigned long long parse_statuses(const char *list)
{
	unsigned long long set = 0;
	char *copy = strdup(list), *tok, *save = NULL;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
			if (!strcmp(tok, status_names[i].name))
				break;
		if (i == sizeof(status_names) / sizeof(status_names[0])) {
			set = 0;
			break;
		}
		set |= 1ULL << status_names[i].status;
	}
	free(copy);
	return set;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --server ADDR --action revoke|move|move-pinned [options]\n"
		"       %s --client ADDR --expect error|success [options]\n"
		"  --port P, --size BYTES (default 1 MiB), --extent-size BYTES,\n"
		"  --on-demand (server: register with IBV_ACCESS_ON_DEMAND),\n"
		"  --expect-status NAME[,NAME...] (client: the error's status, e.g.\n"
		"    REM_ACCESS_ERR, WR_FLUSH_ERR, LOC_QP_OP_ERR)\n",
		prog, prog);
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'S' },
		{ "client", required_argument, NULL, 'C' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "extent-size", required_argument, NULL, 'x' },
		{ "on-demand", no_argument, NULL, 'o' },
		{ "action", required_argument, NULL, 'a' },
		{ "expect", required_argument, NULL, 'e' },
		{ "expect-status", required_argument, NULL, 'E' },
		{ 0 }
	};
	int c;

	*o = (struct options){ .port = "18530", .size = 1 << 20,
			       .extent_size = 64 << 10 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': o->server = true; o->addr = optarg; break;
		case 'C': o->server = false; o->addr = optarg; break;
		case 'p': o->port = optarg; break;
		case 's': o->size = strtoull(optarg, NULL, 0); break;
		case 'x': o->extent_size = strtoull(optarg, NULL, 0); break;
		case 'o': o->on_demand = true; break;
		case 'a':
			if (!strcmp(optarg, "revoke"))
				o->action = ACT_REVOKE;
			else if (!strcmp(optarg, "move"))
				o->action = ACT_MOVE;
			else if (!strcmp(optarg, "move-pinned"))
				o->action = ACT_MOVE_PINNED;
			else
				return usage(argv[0]), -1;
			break;
		case 'e': o->expect_error = !strcmp(optarg, "error"); break;
		case 'E':
			o->expect_status = parse_statuses(optarg);
			if (!o->expect_status)
				return usage(argv[0]), -1;
			break;
		default: usage(argv[0]); return -1;
		}
	}
	if (!o->addr) {
		usage(argv[0]);
		return -1;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The exporter's view: the attachments expected and, when lists is not
 * negative, that many lists still mapped (0 once the MR is gone: nothing
 * may keep a list after deregistration).
 */
static int check_stats(int fd, uint32_t attachments, int lists, const char *when)
{
	struct pal_testexp_stats st;

	if (pal_testexp_stats(fd, &st)) {
		perror("DMA_BUF_PAL_TEST_STATS");
		return -1;
	}
	printf("server: %s: %u attachment(s), %u list(s) mapped, %u pin(s), %u move(s), revoked %u\n",
	       when, st.attachments, st.pal_maps, st.pins, st.moves, st.revoked);
	if (st.attachments != attachments) {
		fprintf(stderr, "server: %s: %u attachments, expected %u\n", when,
			st.attachments, attachments);
		return -1;
	}
	if (lists >= 0 && st.pal_maps != (uint32_t)lists) {
		fprintf(stderr, "server: %s: %u list(s) mapped, expected %d\n", when,
			st.pal_maps, lists);
		return -1;
	}
	return 0;
}

static int revoke_and_poison(struct pal_conn *conn, struct pal_mem *mem)
{
	struct pal_testexp_stats st;
	uint32_t live;
	size_t i;

	if (pal_testexp_revoke(mem->dmabuf_fd, &live)) {
		perror("server: DMA_BUF_PAL_TEST_REVOKE");
		return -1;
	}
	if (live) {
		fprintf(stderr, "server: %u mapping(s) still held after revoke\n", live);
		return -1;
	}
	memset(mem->cpu, POISON, mem->size);
	printf("server: revoked with no mapping left, buffer poisoned\n");
	if (pal_testexp_stats(mem->dmabuf_fd, &st) || st.pal_maps || st.pins) {
		fprintf(stderr, "server: after revoke: %u list(s) mapped, %u pin(s)\n",
			st.pal_maps, st.pins);
		return -1;
	}
	/* The client keeps writing until it sees its error, then leaves. */
	pal_conn_wait_disconnect(conn);
	sleep_ms(200);
	for (i = 0; i < mem->size; i++) {
		if (((uint8_t *)mem->cpu)[i] != POISON) {
			fprintf(stderr, "server: byte %zu changed to 0x%02x after the revoke\n",
				i, ((uint8_t *)mem->cpu)[i]);
			return -1;
		}
	}
	printf("server: all %zu bytes still poisoned after the client left\n", mem->size);
	return 0;
}

/*
 * The server's receives: wr_id 1 takes "started", 2 takes "done". Wait for
 * the completion of wr_id, which must be the next one and a success.
 */
static int wait_done(struct pal_conn *conn, uint64_t wr_id)
{
	struct ibv_wc wc;

	if (pal_conn_poll(conn, &wc, WAIT_MS)) {
		fprintf(stderr, "server: no message from the client: %s\n", conn->err);
		return -1;
	}
	if (wc.status != IBV_WC_SUCCESS || wc.wr_id != wr_id) {
		fprintf(stderr, "server: request %" PRIu64 " completed with %s, expected the receive %" PRIu64 "\n",
			(uint64_t)wc.wr_id, ibv_wc_status_str(wc.status), wr_id);
		return -1;
	}
	return 0;
}

static int move_under_traffic(struct pal_conn *conn, struct pal_mem *mem,
			      struct ibv_mr *ctrl_mr, bool pinned)
{
	uint32_t live;
	ssize_t bad;
	int i;

	/* Move only an MR that has carried traffic, while it does. */
	if (wait_done(conn, 1))
		return -1;
	for (i = 0; i < 3; i++) {
		sleep_ms(250);
		if (pinned) {
			if (!pal_testexp_move(mem->dmabuf_fd, &live) || errno != EBUSY) {
				fprintf(stderr, "server: move of a pinned buffer gave %s, expected EBUSY\n",
					pal_errno_name(errno));
				return -1;
			}
			continue;
		}
		if (pal_testexp_move(mem->dmabuf_fd, &live)) {
			perror("server: DMA_BUF_PAL_TEST_MOVE");
			return -1;
		}
		if (live) {
			fprintf(stderr, "server: %u mapping(s) still held after move\n", live);
			return -1;
		}
	}
	printf("server: %s\n", pinned ? "3 moves refused with EBUSY" :
					 "moved 3 times, no mapping held across a move");
	if (pal_conn_post_send(conn, ctrl_mr, ctrl_mr->addr, CTRL_LEN, WR_MOVED)) {
		fprintf(stderr, "server: %s\n", conn->err);
		return -1;
	}
	/*
	 * The SEND completes on its ACK, which may come after the client's
	 * "done" if the ACK was lost and the SEND retried: take both in
	 * either order.
	 */
	for (i = 0; i < 2; i++) {
		struct ibv_wc wc;

		if (pal_conn_poll(conn, &wc, WAIT_MS)) {
			fprintf(stderr, "server: waiting for \"moved\" and \"done\": %s\n",
				conn->err);
			return -1;
		}
		if (wc.status != IBV_WC_SUCCESS || (wc.wr_id != WR_MOVED && wc.wr_id != 2)) {
			fprintf(stderr, "server: request %" PRIu64 " completed with %s\n",
				(uint64_t)wc.wr_id, ibv_wc_status_str(wc.status));
			return -1;
		}
	}
	bad = pal_pattern_check(mem->cpu, mem->size, FINAL_SEED, 0);
	if (bad >= 0) {
		fprintf(stderr, "server: byte %zd of the final pattern is wrong\n", bad);
		return -1;
	}
	printf("server: final pattern intact through the CPU view\n");
	pal_conn_wait_disconnect(conn);
	return 0;
}

static int run_server(const struct options *o)
{
	struct pal_conn_attr attr = { .max_send_wr = 4, .max_recv_wr = 4, .max_rd_atomic = 4 };
	struct pal_mem_params params = { .size = o->size, .extent_size = o->extent_size };
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;
	struct pal_mem mem = { 0 }, ctrl = { 0 };
	struct ibv_mr *mr = NULL, *ctrl_mr = NULL;
	struct pal_remote_buf adv;
	struct pal_conn conn;
	int rc = -1;

	if (o->on_demand)
		access |= IBV_ACCESS_ON_DEMAND;
	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_listen(&conn, o->addr, o->port) || pal_conn_get_request(&conn)) {
		fprintf(stderr, "server: %s\n", conn.err);
		goto out;
	}
	if (pal_mem_alloc(&mem, &pal_mem_testexp_ops, &params) ||
	    pal_mem_alloc(&ctrl, &pal_mem_host_ops, &(struct pal_mem_params){ .size = CTRL_LEN })) {
		fprintf(stderr, "server: %s%s\n", mem.err, ctrl.err);
		goto out;
	}
	mr = pal_mem_reg(&mem, conn.pd, 0, mem.size, access, true);
	ctrl_mr = pal_mem_reg(&ctrl, conn.pd, 0, CTRL_LEN, IBV_ACCESS_LOCAL_WRITE, false);
	if (!mr || !ctrl_mr) {
		fprintf(stderr, "server: %s%s\n", mem.err, ctrl.err);
		goto out;
	}
	if (check_stats(mem.dmabuf_fd, 1, -1, "registered"))
		goto out;
	memset(mem.cpu, 0, mem.size);
	if (pal_conn_post_recv(&conn, ctrl_mr, ctrl.cpu, CTRL_LEN, 1) ||
	    pal_conn_post_recv(&conn, ctrl_mr, ctrl.cpu, CTRL_LEN, 2)) {
		fprintf(stderr, "server: %s\n", conn.err);
		goto out;
	}
	adv = (struct pal_remote_buf){ .addr = (uintptr_t)mr->addr, .len = mr->length,
				       .rkey = mr->rkey };
	if (pal_conn_accept(&conn, &adv)) {
		fprintf(stderr, "server: %s\n", conn.err);
		goto out;
	}
	if (o->action == ACT_REVOKE) {
		/* Revoke only an MR that has carried traffic, while it does. */
		if (wait_done(&conn, 1))
			goto out;
		printf("server: the client's traffic works; revoking under it\n");
		sleep_ms(100);
		rc = revoke_and_poison(&conn, &mem);
	} else {
		rc = move_under_traffic(&conn, &mem, ctrl_mr, o->action == ACT_MOVE_PINNED);
	}
out:
	if (mr && ibv_dereg_mr(mr)) {
		perror("server: ibv_dereg_mr");
		rc = -1;
	}
	if (!rc && check_stats(mem.dmabuf_fd, 0, 0, "deregistered"))
		rc = -1;
	if (ctrl_mr)
		ibv_dereg_mr(ctrl_mr);
	pal_mem_free(&ctrl);
	pal_mem_free(&mem);
	pal_conn_destroy(&conn);
	return rc;
}

/*
 * Post one operation and wait; returns the completion status or -1. The
 * server's "moved" may arrive meanwhile: it sets *moved.
 */
static int one_op(struct pal_conn *conn, enum ibv_wr_opcode op, struct ibv_mr *mr,
		  size_t len, uint64_t wr_id, bool *moved)
{
	struct ibv_wc wc;

	if (pal_conn_post_rdma(conn, op, mr, mr->addr, len, conn->peer.addr,
			       conn->peer.rkey, wr_id)) {
		fprintf(stderr, "client: %s\n", conn->err);
		return -1;
	}
	/*
	 * The RECV of "moved" completes in between: successfully (the
	 * server's message), or flushed once the QP failed, in which case
	 * the operation's own completion tells how.
	 */
	for (;;) {
		if (pal_conn_poll(conn, &wc, WAIT_MS)) {
			fprintf(stderr, "client: %s\n", conn->err);
			return -1;
		}
		if (wc.wr_id != WR_MOVED)
			break;
		if (wc.status == IBV_WC_SUCCESS)
			*moved = true;
	}
	if (wc.wr_id != wr_id && wc.status == IBV_WC_SUCCESS) {
		fprintf(stderr, "client: completion of request %" PRIu64 " where %" PRIu64
			" was due\n", (uint64_t)wc.wr_id, wr_id);
		return -1;
	}
	return wc.status;
}

/*
 * SEND "started" (the first bytes of src_mr) and wait for its completion;
 * the server's "moved" may arrive first (if the SEND's ACK was lost).
 */
static int send_started(struct pal_conn *conn, struct ibv_mr *src_mr, bool *moved)
{
	struct ibv_wc wc;

	if (pal_conn_post_send(conn, src_mr, src_mr->addr, CTRL_LEN, WR_STARTED)) {
		fprintf(stderr, "client: %s\n", conn->err);
		return -1;
	}
	do {
		if (pal_conn_poll(conn, &wc, WAIT_MS)) {
			fprintf(stderr, "client: SEND \"started\": %s\n", conn->err);
			return -1;
		}
		if (wc.status != IBV_WC_SUCCESS) {
			fprintf(stderr, "client: request %" PRIu64 " completed with %s\n",
				(uint64_t)wc.wr_id, ibv_wc_status_str(wc.status));
			return -1;
		}
		if (wc.wr_id == WR_MOVED)
			*moved = true;
	} while (wc.wr_id != WR_STARTED);
	return 0;
}

static int run_client(const struct options *o)
{
	struct pal_conn_attr attr = { .max_send_wr = 4, .max_recv_wr = 4, .max_rd_atomic = 4 };
	struct pal_mem_params params = { .size = o->size };
	int access = IBV_ACCESS_LOCAL_WRITE;
	struct pal_mem src = { 0 }, dst = { 0 }, ctrl = { 0 };
	struct ibv_mr *src_mr = NULL, *dst_mr = NULL, *ctrl_mr = NULL;
	struct pal_remote_buf adv = { 0 };
	unsigned long ops = 0, ops_moved = 0;
	struct pal_conn conn;
	bool moved = false;
	double start;
	int rc = -1, st;

	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_resolve(&conn, o->addr, o->port)) {
		fprintf(stderr, "client: %s\n", conn.err);
		goto out;
	}
	if (pal_mem_alloc(&src, &pal_mem_host_ops, &params) ||
	    pal_mem_alloc(&dst, &pal_mem_host_ops, &params) ||
	    pal_mem_alloc(&ctrl, &pal_mem_host_ops, &(struct pal_mem_params){ .size = CTRL_LEN }))
		goto out;
	src_mr = pal_mem_reg(&src, conn.pd, 0, o->size, access, false);
	dst_mr = pal_mem_reg(&dst, conn.pd, 0, o->size, access, false);
	ctrl_mr = pal_mem_reg(&ctrl, conn.pd, 0, CTRL_LEN, access, false);
	if (!src_mr || !dst_mr || !ctrl_mr)
		goto out;
	if (pal_conn_post_recv(&conn, ctrl_mr, ctrl.cpu, CTRL_LEN, WR_MOVED)) {
		fprintf(stderr, "client: %s\n", conn.err);
		goto out;
	}
	pal_pattern_fill(src.cpu, o->size, CLIENT_SEED, 0);
	if (pal_conn_connect(&conn, &adv)) {
		fprintf(stderr, "client: %s\n", conn.err);
		goto out;
	}
	start = now_s();
	for (;;) {
		bool moved_before = moved;

		st = one_op(&conn, IBV_WR_RDMA_WRITE, src_mr, o->size, 2 * ops, &moved);
		if (st == IBV_WC_SUCCESS) {
			memset(dst.cpu, 0, o->size);
			st = one_op(&conn, IBV_WR_RDMA_READ, dst_mr, o->size, 2 * ops + 1,
				    &moved);
		}
		if (st < 0)
			goto out;
		if (st != IBV_WC_SUCCESS) {
			printf("client: operation %lu completed with %s\n", ops,
			       ibv_wc_status_str(st));
			if (!o->expect_error)
				goto out;
			if (!ops) {
				fprintf(stderr, "client: the MR failed before any operation succeeded\n");
				goto out;
			}
			if (o->expect_status && !(o->expect_status & (1ULL << st))) {
				fprintf(stderr, "client: %s is not the error expected after a revoke\n",
					ibv_wc_status_str(st));
				goto out;
			}
			rc = 0;
			goto out;
		}
		if (pal_pattern_check(dst.cpu, o->size, CLIENT_SEED, 0) >= 0) {
			fprintf(stderr, "client: READ %lu returned wrong data\n", ops);
			goto out;
		}
		ops++;
		ops_moved += moved_before;
		/* The server revokes or moves only once told the MR works. */
		if (ops == 1 && send_started(&conn, src_mr, &moved))
			goto out;
		if (!o->expect_error && ops_moved >= MIN_PAIRS_AFTER)
			break;
		if (now_s() - start > 60.0)
			break;
	}
	if (o->expect_error) {
		fprintf(stderr, "client: %lu operations and no error after the revoke\n", ops);
		goto out;
	}
	if (ops_moved < MIN_PAIRS_AFTER) {
		fprintf(stderr, "client: %lu correct pairs, %lu after the server's moves: %s\n",
			ops, ops_moved, moved ? "too few" : "\"moved\" never came");
		goto out;
	}
	printf("client: %lu WRITE+READ pairs with correct data, %lu of them after the server's moves\n",
	       ops, ops_moved);
	pal_pattern_fill(src.cpu, o->size, FINAL_SEED, 0);
	if (one_op(&conn, IBV_WR_RDMA_WRITE, src_mr, o->size, 1000000, &moved) !=
	    IBV_WC_SUCCESS)
		goto out;
	if (pal_conn_post_send(&conn, src_mr, src_mr->addr, CTRL_LEN, 1000001)) {
		fprintf(stderr, "client: %s\n", conn.err);
		goto out;
	}
	rc = 0;
	{
		struct ibv_wc wc;

		if (pal_conn_poll(&conn, &wc, WAIT_MS) || wc.status != IBV_WC_SUCCESS)
			rc = -1;
	}
out:
	if (src_mr)
		ibv_dereg_mr(src_mr);
	if (dst_mr)
		ibv_dereg_mr(dst_mr);
	if (ctrl_mr)
		ibv_dereg_mr(ctrl_mr);
	pal_mem_free(&src);
	pal_mem_free(&dst);
	pal_mem_free(&ctrl);
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
