// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pal_bench refault: what the first access after a move costs an on-demand
 * dma-buf MR, which must map its buffer again (the ODP-style re-fault).
 *
 * The server registers a test exporter buffer with IBV_ACCESS_ON_DEMAND and
 * moves it whenever the client asks. The client times RDMA WRITEs into it:
 * steady ones, and the first one after each move; the difference is the
 * re-fault (invalidated extents re-mapped under the reservation lock).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <rdma_pal/conn.h>
#include <rdma_pal/testexp.h>

#include "bench.h"

#define WAIT_MS 60000
#define CMD_MOVE 'M'
#define CMD_QUIT 'Q'
#define CMD_DONE 'D'

struct refault_opts {
	bool server;
	const char *addr;
	const char *port;
	uint64_t buf_size;
	uint64_t extent;
	uint64_t msg;
	unsigned int reps;
	struct bench_report_opts report;
};

enum { OPT_SERVER = BENCH_OPT_FIRST, OPT_CLIENT, OPT_BUFFER, OPT_EXTENT };

static void refault_usage(void)
{
	fprintf(stderr,
		"usage: pal_bench refault --server ADDR | --client ADDR [options]\n"
		"  -p, --port P            RDMA CM port (default 18650)\n"
		"      --buffer BYTES      server buffer (default 1M)\n"
		"      --extent BYTES      its test exporter extent size (default 64K)\n"
		"  -s, --size BYTES        RDMA WRITE size (default 4K)\n"
		"  -n, --iters N           moves (default 20)\n"
		BENCH_COMMON_USAGE
		"The client writes the JSON report. Both sides take the same --buffer,\n"
		"--extent and -n.\n");
}

static int refault_parse(int argc, char **argv, struct refault_opts *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "client", required_argument, NULL, OPT_CLIENT },
		{ "port", required_argument, NULL, 'p' },
		{ "buffer", required_argument, NULL, OPT_BUFFER },
		{ "extent", required_argument, NULL, OPT_EXTENT },
		{ "size", required_argument, NULL, 's' },
		{ "iters", required_argument, NULL, 'n' },
		BENCH_COMMON_LONGOPTS,
		{ 0 }
	};
	int c;

	*o = (struct refault_opts){ .port = "18650", .buf_size = 1 << 20,
				    .extent = 64 << 10, .msg = 4096, .reps = 20 };
	while ((c = getopt_long(argc, argv, "p:s:n:" BENCH_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (bench_common_opt(c, optarg, false, &o->report))
			continue;
		switch (c) {
		case OPT_SERVER: o->server = true; o->addr = optarg; break;
		case OPT_CLIENT: o->server = false; o->addr = optarg; break;
		case 'p': o->port = optarg; break;
		case OPT_BUFFER: o->buf_size = bench_parse_size(optarg); break;
		case OPT_EXTENT: o->extent = bench_parse_size(optarg); break;
		case 's': o->msg = bench_parse_size(optarg); break;
		case 'n': o->reps = strtoul(optarg, NULL, 0); break;
		default: refault_usage(); return -1;
		}
	}
	if (!o->addr || !o->msg || o->msg > o->buf_size || !o->reps) {
		refault_usage();
		return -1;
	}
	return 0;
}

/* Wait for one successful completion. */
static int refault_wait(struct pal_conn *conn, const char *what)
{
	struct ibv_wc wc;

	if (pal_conn_poll(conn, &wc, WAIT_MS)) {
		fprintf(stderr, "refault: %s: %s\n", what, conn->err);
		return -1;
	}
	if (wc.status != IBV_WC_SUCCESS) {
		fprintf(stderr, "refault: %s: %s\n", what, ibv_wc_status_str(wc.status));
		return -1;
	}
	return 0;
}

/* Send one command byte from ctrl[0]. */
static int refault_send(struct pal_conn *conn, struct ibv_mr *ctrl, char cmd)
{
	*(char *)ctrl->addr = cmd;
	if (pal_conn_post_send(conn, ctrl, ctrl->addr, 1, 0)) {
		fprintf(stderr, "refault: %s\n", conn->err);
		return -1;
	}
	return refault_wait(conn, "send");
}

static int refault_server(const struct refault_opts *o)
{
	struct pal_conn_attr attr = { .max_send_wr = 4, .max_recv_wr = 4, .max_rd_atomic = 4 };
	struct pal_mem_params params = { .size = o->buf_size, .extent_size = o->extent };
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_ON_DEMAND;
	struct pal_mem mem = { 0 }, ctrl = { 0 };
	struct ibv_mr *mr = NULL, *ctrl_mr = NULL;
	struct pal_remote_buf adv;
	struct pal_conn conn;
	int rc = -1;

	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_listen(&conn, o->addr, o->port) || pal_conn_get_request(&conn)) {
		fprintf(stderr, "refault: %s\n", conn.err);
		goto out;
	}
	if (pal_mem_alloc(&mem, &pal_mem_testexp_ops, &params) ||
	    pal_mem_alloc(&ctrl, &pal_mem_host_ops, &(struct pal_mem_params){ .size = 64 }))
		goto out;
	mr = pal_mem_reg(&mem, conn.pd, 0, mem.size, access, true);
	ctrl_mr = pal_mem_reg(&ctrl, conn.pd, 0, 64, IBV_ACCESS_LOCAL_WRITE, false);
	if (!mr || !ctrl_mr) {
		fprintf(stderr, "refault: %s%s\n", mem.err, ctrl.err);
		goto out;
	}
	adv = (struct pal_remote_buf){ .addr = (uintptr_t)mr->addr, .len = mr->length,
				       .rkey = mr->rkey };
	if (pal_conn_post_recv(&conn, ctrl_mr, ctrl_mr->addr, 64, 1) ||
	    pal_conn_accept(&conn, &adv)) {
		fprintf(stderr, "refault: %s\n", conn.err);
		goto out;
	}
	for (;;) {
		char cmd;

		if (refault_wait(&conn, "receive"))
			goto out;
		cmd = *(char *)ctrl.cpu;
		if (cmd == CMD_QUIT)
			break;
		if (pal_conn_post_recv(&conn, ctrl_mr, ctrl_mr->addr, 64, 1))
			goto out;
		if (pal_testexp_move(mem.dmabuf_fd, NULL)) {
			perror("refault: DMA_BUF_PAL_TEST_MOVE");
			goto out;
		}
		if (refault_send(&conn, ctrl_mr, CMD_DONE))
			goto out;
	}
	pal_conn_wait_disconnect(&conn);
	rc = 0;
out:
	if (mr)
		ibv_dereg_mr(mr);
	if (ctrl_mr)
		ibv_dereg_mr(ctrl_mr);
	pal_mem_free(&ctrl);
	pal_mem_free(&mem);
	pal_conn_destroy(&conn);
	return rc;
}

/* Time one RDMA WRITE of o->msg bytes, in microseconds. */
static int refault_write(struct pal_conn *conn, struct ibv_mr *src, uint64_t msg, double *us)
{
	uint64_t t0 = bench_now_ns();

	if (pal_conn_post_rdma(conn, IBV_WR_RDMA_WRITE, src, src->addr, msg, conn->peer.addr,
			       conn->peer.rkey, 2)) {
		fprintf(stderr, "refault: %s\n", conn->err);
		return -1;
	}
	if (refault_wait(conn, "RDMA WRITE"))
		return -1;
	*us = (double)(bench_now_ns() - t0) / 1e3;
	return 0;
}

static int refault_client(const struct refault_opts *o)
{
	struct pal_conn_attr attr = { .max_send_wr = 4, .max_recv_wr = 4, .max_rd_atomic = 4 };
	double steady[o->reps], after[o->reps], extra[o->reps];
	struct pal_mem src = { 0 }, ctrl = { 0 };
	struct ibv_mr *src_mr = NULL, *ctrl_mr = NULL;
	struct pal_remote_buf adv = { 0 };
	struct pal_conn conn;
	int rc = -1;

	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_resolve(&conn, o->addr, o->port))
		goto err_conn;
	if (pal_mem_alloc(&src, &pal_mem_host_ops, &(struct pal_mem_params){ .size = o->msg }) ||
	    pal_mem_alloc(&ctrl, &pal_mem_host_ops, &(struct pal_mem_params){ .size = 64 }))
		goto out;
	src_mr = pal_mem_reg(&src, conn.pd, 0, o->msg, IBV_ACCESS_LOCAL_WRITE, false);
	ctrl_mr = pal_mem_reg(&ctrl, conn.pd, 0, 64, IBV_ACCESS_LOCAL_WRITE, false);
	if (!src_mr || !ctrl_mr)
		goto out;
	if (pal_conn_connect(&conn, &adv))
		goto err_conn;
	for (unsigned int i = 0; i < o->reps; i++) {
		double a, b;

		/* Two steady WRITEs (the first may still be re-faulting). */
		if (refault_write(&conn, src_mr, o->msg, &a) ||
		    refault_write(&conn, src_mr, o->msg, &steady[i]))
			goto out;
		if (pal_conn_post_recv(&conn, ctrl_mr, ctrl_mr->addr, 64, 1) ||
		    refault_send(&conn, ctrl_mr, CMD_MOVE) || refault_wait(&conn, "moved"))
			goto out;
		if (refault_write(&conn, src_mr, o->msg, &b))
			goto out;
		after[i] = b;
		extra[i] = b - steady[i];
	}
	if (refault_send(&conn, ctrl_mr, CMD_QUIT))
		goto out;
	{
		double s = bench_quantile(steady, o->reps, 0.5);
		double a = bench_quantile(after, o->reps, 0.5);
		double e = bench_quantile(extra, o->reps, 0.5);
		struct bench_out out;
		FILE *json;

		printf(" %8s %6s %18s %22s %14s\n", "bytes", "moves", "WRITE steady [us]",
		       "first WRITE after [us]", "re-fault [us]");
		printf(" %8llu %6u %18.1f %22.1f %14.1f\n", (unsigned long long)o->msg, o->reps,
		       s, a, e);
		if (bench_out_open(&out, o->report.json, NULL, NULL))
			goto out;
		json = bench_out_json_row(&out);
		if (json) {
			struct bench_json j;

			bench_json_open(&j, json);
			bench_json_u64(&j, "msg_size", o->msg);
			bench_json_u64(&j, "buffer_bytes", o->buf_size);
			bench_json_u64(&j, "extent", o->extent);
			bench_json_u64(&j, "moves", o->reps);
			bench_json_dbl(&j, "write_us_steady", s);
			bench_json_dbl(&j, "write_us_after_move", a);
			bench_json_dbl(&j, "refault_us", e);
			bench_json_close(&j);
		}
		bench_out_close(&out);
	}
	rc = 0;
	goto out;
err_conn:
	fprintf(stderr, "refault: %s\n", conn.err);
out:
	if (src_mr)
		ibv_dereg_mr(src_mr);
	if (ctrl_mr)
		ibv_dereg_mr(ctrl_mr);
	pal_mem_free(&ctrl);
	pal_mem_free(&src);
	pal_conn_destroy(&conn);
	return rc;
}

int bench_refault(int argc, char **argv)
{
	struct refault_opts o;

	if (refault_parse(argc, argv, &o))
		return 2;
	return (o.server ? refault_server(&o) : refault_client(&o)) ? 1 : 0;
}
