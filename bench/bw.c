// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pal_bench bw: RDMA WRITE, READ or SEND bandwidth over one RC connection,
 * perftest's table and JSON keys, on any memory backend, registered as a
 * dma-buf MR or (the baseline) with ibv_reg_mr on the same pages.
 *
 * The client is the active side for WRITE and READ (it posts, the server
 * only advertises its buffer) and the sender for SEND (the server keeps
 * receives posted). Both sides are started with the same size options.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rdma_pal/conn.h>
#include <rdma_pal/testexp.h>

#include "bench.h"

#define MAX_ALL_SIZE (8UL << 20)	/* -a: 2 B to 8 MiB, as perftest */
#define WAIT_MS 60000
/* perftest's MSG_SIZE_CQ_MOD_LIMIT: above it, no moderation by default. */
#define BW_CQ_MOD_SIZE_LIMIT 8192

enum verb { VERB_WRITE, VERB_READ, VERB_SEND };

struct bw_opts {
	bool server;
	const char *addr;
	const char *port;
	enum verb verb;
	uint64_t size;		/* -s */
	bool all;		/* -a */
	uint64_t iters;		/* -n */
	double duration;	/* -D: seconds per size instead of -n */
	uint32_t tx_depth;	/* -t */
	uint32_t cq_mod;	/* -Q: one signaled message in cq_mod */
	bool cq_mod_set;	/* -Q given */
	const char *ib_dev;	/* -d: the device the connection must use */
	const char *memory;	/* BACKEND[:EXTENT[:SEED]] */
	bool dmabuf;		/* ibv_reg_dmabuf_mr instead of ibv_reg_mr */
	bool on_demand;		/* --odp */
	struct bench_report_opts report;
};

enum {
	OPT_SERVER = BENCH_OPT_FIRST,
	OPT_CLIENT,
	OPT_VERB,
	OPT_MEMORY,
	OPT_DMABUF,
	OPT_ODP,
};

static const char *const verb_test[] = {
	"RDMA_Write_BW_Test", "RDMA_Read_BW_Test", "Send_BW_Test"
};

static void bw_usage(void)
{
	fprintf(stderr,
		"usage: pal_bench bw --server ADDR | --client ADDR [options]\n"
		"  -d, --ib-dev NAME       fail unless the connection runs on this RDMA\n"
		"                          device (rdma_cm picks it from ADDR)\n"
		"  -p, --port P            RDMA CM port (default 18600)\n"
		"      --verb V            write (default), read or send\n"
		"  -s, --size BYTES        message size (default 65536; K/M/G suffixes)\n"
		"  -a, --all               every power of two from 2 B to 8 MiB\n"
		"  -n, --iters N           messages per size (default 1000)\n"
		"  -D, --duration S        seconds per size instead of -n\n"
		"  -t, --tx-depth N        messages in flight (default 128, at most -n)\n"
		"  -Q, --cq-mod N          ask for a completion every N messages (default\n"
		"                          100, at most the TX depth; 1 for a single size\n"
		"                          above 8 KiB): perftest's defaults and limits\n"
		"      --memory SPEC       BACKEND[:EXTENT[:SEED]] (default host); see\n"
		"                          'pal_bench --backends'\n"
		"      --dmabuf            register with ibv_reg_dmabuf_mr (the backend's\n"
		"                          dma-buf); without it, ibv_reg_mr of the same pages\n"
		"      --odp               with IBV_ACCESS_ON_DEMAND (dma-buf MRs not pinned)\n"
		BENCH_COMMON_USAGE
		"The JSON report is perftest's plus memory and path fields.\n"
		"Both sides must get the same --verb, -s/-a, -n/-D and --memory.\n");
}

static int bw_parse(int argc, char **argv, struct bw_opts *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "client", required_argument, NULL, OPT_CLIENT },
		{ "ib-dev", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "verb", required_argument, NULL, OPT_VERB },
		{ "size", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "iters", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'D' },
		{ "tx-depth", required_argument, NULL, 't' },
		{ "cq-mod", required_argument, NULL, 'Q' },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "dmabuf", no_argument, NULL, OPT_DMABUF },
		{ "odp", no_argument, NULL, OPT_ODP },
		BENCH_COMMON_LONGOPTS,
		{ 0 }
	};
	int c;

	*o = (struct bw_opts){ .port = "18600", .size = 65536, .iters = 1000,
			       .tx_depth = 128, .cq_mod = 100, .memory = "host" };
	while ((c = getopt_long(argc, argv, "d:p:s:an:D:t:Q:" BENCH_COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		if (bench_common_opt(c, optarg, false, &o->report))
			continue;
		switch (c) {
		case OPT_SERVER: o->server = true; o->addr = optarg; break;
		case OPT_CLIENT: o->server = false; o->addr = optarg; break;
		case 'd': o->ib_dev = optarg; break;
		case 'p': o->port = optarg; break;
		case OPT_VERB:
			if (!strcmp(optarg, "write"))
				o->verb = VERB_WRITE;
			else if (!strcmp(optarg, "read"))
				o->verb = VERB_READ;
			else if (!strcmp(optarg, "send"))
				o->verb = VERB_SEND;
			else
				return bw_usage(), -1;
			break;
		case 's': o->size = bench_parse_size(optarg); break;
		case 'a': o->all = true; break;
		case 'n': o->iters = strtoull(optarg, NULL, 0); break;
		case 'D': o->duration = strtod(optarg, NULL); break;
		case 't': o->tx_depth = strtoul(optarg, NULL, 0); break;
		case 'Q':
			o->cq_mod = strtoul(optarg, NULL, 0);
			o->cq_mod_set = true;
			break;
		case OPT_MEMORY: o->memory = optarg; break;
		case OPT_DMABUF: o->dmabuf = true; break;
		case OPT_ODP: o->on_demand = true; break;
		default: bw_usage(); return -1;
		}
	}
	if (!o->addr || !o->size || (!o->iters && !o->duration) || !o->tx_depth ||
	    !o->cq_mod || o->size > MAX_ALL_SIZE) {
		bw_usage();
		return -1;
	}
	/* perftest's rules (force_dependecies()), so that both do the same. */
	if (!o->duration && o->tx_depth > o->iters)
		o->tx_depth = o->iters;
	/* It signals every large message of a single size unless told. */
	if (o->size > BW_CQ_MOD_SIZE_LIMIT && !o->all && !o->cq_mod_set)
		o->cq_mod = 1;
	/* The moderation never exceeds the depth, or the queue stalls. */
	if (o->cq_mod > o->tx_depth)
		o->cq_mod = o->tx_depth;
	if (o->duration && o->verb == VERB_SEND) {
		fprintf(stderr, "bw: -D needs a fixed count for SEND; use -n\n");
		return -1;
	}
	return 0;
}

/* -d: rdma_cm chose the device from the address; it must be the one named. */
static int bw_check_device(const struct bw_opts *o, const struct pal_conn *conn)
{
	const char *name = ibv_get_device_name(conn->id->verbs->device);

	if (o->ib_dev && strcmp(o->ib_dev, name)) {
		fprintf(stderr, "bw: %s reaches %s through %s, not %s\n", o->addr,
			o->server ? "its clients" : "the server", name, o->ib_dev);
		return -1;
	}
	return 0;
}

/* The registered buffer of one side. */
struct bw_buf {
	struct pal_mem mem;
	struct ibv_mr *mr;
};

static int bw_buf_init(struct bw_buf *b, struct ibv_pd *pd, const struct bw_opts *o,
		       size_t size)
{
	struct pal_mem_params params = { 0 };
	const struct pal_mem_ops *ops;
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;

	if (bench_parse_memory(o->memory, &ops, &params)) {
		fprintf(stderr, "bw: unknown memory '%s'\n", o->memory);
		return -1;
	}
	if (o->on_demand)
		access |= IBV_ACCESS_ON_DEMAND;
	params.size = size;
	if (pal_mem_alloc(&b->mem, ops, &params)) {
		fprintf(stderr, "bw: %s\n", b->mem.err);
		return -1;
	}
	memset(b->mem.cpu, 0x5a, b->mem.size);
	b->mr = pal_mem_reg(&b->mem, pd, 0, b->mem.size, access, o->dmabuf);
	if (!b->mr) {
		fprintf(stderr, "bw: %s\n", b->mem.err);
		return -1;
	}
	return 0;
}

static void bw_buf_fini(struct bw_buf *b)
{
	if (b->mr)
		ibv_dereg_mr(b->mr);
	pal_mem_free(&b->mem);
}

/* Sizes of the run: -s, or 2 B to 8 MiB with -a. */
static size_t bw_sizes(const struct bw_opts *o, uint64_t *sizes)
{
	size_t n = 0;

	if (!o->all) {
		sizes[n++] = o->size;
		return n;
	}
	for (uint64_t s = 2; s <= MAX_ALL_SIZE; s <<= 1)
		sizes[n++] = s;
	return n;
}

struct bw_result {
	uint64_t size;
	uint64_t iters;
	double bw_peak;		/* MiB/s */
	double bw_avg;		/* MiB/s */
	double msg_rate;	/* Mpps */
	double seconds;
};

static int bw_post(struct pal_conn *conn, const struct bw_opts *o, struct bw_buf *b,
		   uint64_t size, uint64_t wr_id, bool signaled)
{
	unsigned int flags = signaled ? IBV_SEND_SIGNALED : 0;
	void *laddr = b->mr->addr;

	if (o->verb == VERB_SEND)
		return pal_conn_post_send_flags(conn, b->mr, laddr, size, wr_id, flags);
	return pal_conn_post_rdma_flags(conn, o->verb == VERB_WRITE ? IBV_WR_RDMA_WRITE :
								      IBV_WR_RDMA_READ,
					b->mr, laddr, size, conn->peer.addr,
					conn->peer.rkey, wr_id, flags);
}

/* A signaled completion: messages [0, done) have completed by @ns. */
struct bw_mark {
	uint64_t done;
	uint64_t ns;
};

/*
 * The best rate over any window of about an eighth of the messages,
 * measured between signaled completions.
 */
static double bw_peak(const struct bw_mark *m, size_t nr, uint64_t size, double avg)
{
	uint64_t w = m[nr - 1].done / 8 ? m[nr - 1].done / 8 : 1;
	double peak = avg;
	size_t i, j = 0;

	for (i = 1; i < nr; i++) {
		double s;

		while (j + 1 < i && m[i].done - m[j + 1].done >= w)
			j++;
		if (m[i].done - m[j].done < w)
			continue;
		s = (double)(m[i].ns - m[j].ns) / 1e9;
		if (s > 0 && (double)size * (m[i].done - m[j].done) / s / (1 << 20) > peak)
			peak = (double)size * (m[i].done - m[j].done) / s / (1 << 20);
	}
	return peak;
}

/*
 * Keep tx_depth messages in flight until iters (or the duration) are done,
 * asking for a completion every cq_mod messages and for the last one (with
 * -D, posting stops at the first multiple of cq_mod once time is up).
 * The completion of message i reports every message before it, since an
 * RC send queue completes in order.
 */
static int bw_client_size(struct pal_conn *conn, const struct bw_opts *o,
			  struct bw_buf *b, uint64_t size, struct bw_result *r)
{
	size_t cap = o->duration ? 1 << 22 : o->iters;
	uint64_t posted = 0, completed = 0, start, end_at = 0;
	struct bw_mark *marks;
	size_t nr_marks = 0;
	struct ibv_wc wc;

	marks = calloc(cap / o->cq_mod + 2, sizeof(*marks));
	if (!marks)
		return -1;
	start = bench_now_ns();
	if (o->duration)
		end_at = start + (uint64_t)(o->duration * 1e9);
	for (;;) {
		while (posted < cap && posted - completed < o->tx_depth) {
			bool last = posted + 1 == cap;
			bool signaled = last || (posted + 1) % o->cq_mod == 0;

			if (end_at && posted && posted % o->cq_mod == 0 &&
			    bench_now_ns() >= end_at)
				break;
			if (bw_post(conn, o, b, size, posted, signaled)) {
				fprintf(stderr, "bw: %s\n", conn->err);
				goto err;
			}
			posted++;
		}
		if (completed == posted)
			break;
		if (pal_conn_poll(conn, &wc, WAIT_MS)) {
			fprintf(stderr, "bw: %s\n", conn->err);
			goto err;
		}
		if (wc.status != IBV_WC_SUCCESS) {
			fprintf(stderr, "bw: message %" PRIu64 " completed with %s\n",
				wc.wr_id, ibv_wc_status_str(wc.status));
			goto err;
		}
		completed = wc.wr_id + 1;
		marks[nr_marks++] = (struct bw_mark){ completed, bench_now_ns() };
	}
	r->size = size;
	r->iters = completed;
	r->seconds = (double)(marks[nr_marks - 1].ns - start) / 1e9;
	r->bw_avg = (double)size * completed / r->seconds / (1 << 20);
	r->msg_rate = completed / r->seconds / 1e6;
	r->bw_peak = bw_peak(marks, nr_marks, size, r->bw_avg);
	free(marks);
	return 0;
err:
	free(marks);
	return -1;
}

static void bw_print_header(const struct bw_opts *o, const char *device)
{
	printf("---------------------------------------------------------------------------------------\n");
	printf("                    %s (pal_bench)\n", verb_test[o->verb]);
	printf(" Device         : %s\n", device);
	printf(" Memory         : %s, %s\n", o->memory,
	       o->dmabuf ? (o->on_demand ? "dma-buf MR, on demand" : "dma-buf MR, pinned") :
			   "ibv_reg_mr (baseline)");
	printf(" TX depth       : %u\n", o->tx_depth);
	printf(" CQ Moderation  : %u\n", o->cq_mod);
	printf("---------------------------------------------------------------------------------------\n");
	printf(" #bytes     #iterations    BW peak[MiB/sec]    BW average[MiB/sec]   MsgRate[Mpps]\n");
}

/* perftest's names for a transport and a link layer. */
static const char *bw_transport(enum ibv_transport_type t)
{
	return t == IBV_TRANSPORT_IWARP ? "IW" : t == IBV_TRANSPORT_IB ? "IB" : "Unknown";
}

static const char *bw_link_layer(uint8_t link_layer)
{
	return link_layer == IBV_LINK_LAYER_ETHERNET ? "Ethernet" :
	       link_layer == IBV_LINK_LAYER_INFINIBAND ? "IB" : "Unknown";
}

/*
 * The JSON report: perftest's "test_info" keys (what this test has of
 * them, read from the connection where perftest reads them from its
 * parameters) plus the memory and registration path, then "results".
 */
static void bw_json(FILE *f, const struct bw_opts *o, const struct pal_conn *conn,
		    const struct bw_buf *b, const struct bw_result *res, size_t n)
{
	struct ibv_context *ctx = conn->id->verbs;
	struct ibv_qp_init_attr init_attr = { 0 };
	struct ibv_port_attr port_attr;
	struct ibv_qp_attr qp_attr;
	uint32_t extents = 0;
	struct bench_json j;

	/* Ranges of the exporter's list; 0 where it offers none. */
	if (b->mem.dmabuf_fd >= 0 && pal_dmabuf_inspect(b->mem.dmabuf_fd, &extents, NULL))
		extents = 0;

	fprintf(f, "{\n\"test_info\": ");
	bench_json_open(&j, f);
	bench_json_str(&j, "test", verb_test[o->verb]);
	bench_json_str(&j, "Dual_port", "OFF");
	bench_json_str(&j, "Device", ibv_get_device_name(ctx->device));
	bench_json_u64(&j, "Number_of_qps", 1);
	bench_json_str(&j, "Transport_type", bw_transport(ctx->device->transport_type));
	bench_json_str(&j, "Connection_type", "RC");
	bench_json_str(&j, "Using_SRQ", "OFF");
	bench_json_u64(&j, "TX_depth", o->tx_depth);
	bench_json_u64(&j, "CQ_Moderation", o->cq_mod);
	if (!ibv_query_qp(conn->id->qp, &qp_attr, IBV_QP_PATH_MTU | IBV_QP_MAX_QP_RD_ATOMIC,
			  &init_attr)) {
		bench_json_u64(&j, "Mtu", 128u << qp_attr.path_mtu);
		if (o->verb == VERB_READ)
			bench_json_u64(&j, "Outstand_reads", qp_attr.max_rd_atomic);
	}
	if (!ibv_query_port(ctx, conn->id->port_num, &port_attr))
		bench_json_str(&j, "Link_type", bw_link_layer(port_attr.link_layer));
	if (o->verb != VERB_READ)
		bench_json_u64(&j, "Max_inline_data", init_attr.cap.max_inline_data);
	bench_json_str(&j, "rdma_cm_QPs", "ON");
	bench_json_str(&j, "Data_ex_method", "rdma_cm");
	bench_json_str(&j, "memory", o->memory);
	bench_json_str(&j, "registration", o->dmabuf ? "ibv_reg_dmabuf_mr" : "ibv_reg_mr");
	bench_json_str(&j, "import_path", o->dmabuf ? "pal" : "pages");
	bench_json_str(&j, "mr_mode", !o->dmabuf ? "pinned" : o->on_demand ? "on_demand" : "pinned");
	bench_json_u64(&j, "buffer_bytes", b->mem.size);
	bench_json_u64(&j, "extents", extents);
	bench_json_close(&j);
	/* perftest writes one "results" object for one size; -a adds an array. */
	fprintf(f, ",\n\"results\": ");
	for (size_t i = 0; i < n; i++) {
		if (n > 1)
			fprintf(f, i ? ",\n  " : "[\n  ");
		bench_json_open(&j, f);
		bench_json_u64(&j, "MsgSize", res[i].size);
		bench_json_u64(&j, "n_iterations", res[i].iters);
		bench_json_dbl(&j, "BW_peak", res[i].bw_peak);
		bench_json_dbl(&j, "BW_average", res[i].bw_avg);
		bench_json_dbl(&j, "MsgRate", res[i].msg_rate);
		bench_json_dbl(&j, "seconds", res[i].seconds);
		bench_json_close(&j);
	}
	fprintf(f, "%s\n}\n", n > 1 ? "\n]" : "");
}

static int bw_client(const struct bw_opts *o)
{
	struct pal_conn_attr attr = { .max_send_wr = o->tx_depth, .max_recv_wr = 4,
				      .max_rd_atomic = 16 };
	struct bw_result res[32];
	uint64_t sizes[32];
	size_t n = bw_sizes(o, sizes), done = 0;
	struct pal_remote_buf adv = { 0 };
	struct bw_buf b = { 0 };
	struct pal_conn conn;
	const char *device;
	int rc = -1;

	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_resolve(&conn, o->addr, o->port)) {
		fprintf(stderr, "bw: %s\n", conn.err);
		goto out;
	}
	if (bw_check_device(o, &conn) || bw_buf_init(&b, conn.pd, o, sizes[n - 1]))
		goto out;
	if (pal_conn_connect(&conn, &adv)) {
		fprintf(stderr, "bw: %s\n", conn.err);
		goto out;
	}
	device = ibv_get_device_name(conn.id->verbs->device);
	bw_print_header(o, device);
	for (done = 0; done < n; done++) {
		struct bw_result *r = &res[done];

		if (o->verb != VERB_SEND && conn.peer.len < sizes[done]) {
			fprintf(stderr, "bw: server buffer too small\n");
			goto out;
		}
		if (bw_client_size(&conn, o, &b, sizes[done], r))
			goto out;
		printf(" %-7" PRIu64 "    %-10" PRIu64 "       %-7.2f            %-7.2f		     %-7.6f\n",
		       r->size, r->iters, r->bw_peak, r->bw_avg, r->msg_rate);
		fflush(stdout);
	}
	printf("---------------------------------------------------------------------------------------\n");
	if (o->report.json) {
		FILE *f = fopen(o->report.json, "w");

		if (!f) {
			perror(o->report.json);
			goto out;
		}
		bw_json(f, o, &conn, &b, res, n);
		fclose(f);
	}
	rc = 0;
out:
	bw_buf_fini(&b);
	pal_conn_destroy(&conn);
	return rc;
}

/* SEND: receives to post in all, one per message of every size. */
static uint64_t bw_recv_total(const struct bw_opts *o, size_t n)
{
	return o->iters * n;
}

static int bw_post_recv(struct pal_conn *conn, struct bw_buf *b, uint64_t wr_id)
{
	if (pal_conn_post_recv(conn, b->mr, b->mr->addr, b->mr->length, wr_id)) {
		fprintf(stderr, "bw: %s\n", conn->err);
		return -1;
	}
	return 0;
}

/* SEND: repost receives until every message of every size arrived. */
static int bw_server_recv(struct pal_conn *conn, struct bw_buf *b, uint64_t posted,
			  uint64_t want)
{
	struct ibv_wc wc;

	for (uint64_t got = 0; got < want; got++) {
		if (pal_conn_poll(conn, &wc, WAIT_MS)) {
			fprintf(stderr, "bw: %s\n", conn->err);
			return -1;
		}
		if (wc.status != IBV_WC_SUCCESS) {
			fprintf(stderr, "bw: receive completed with %s\n",
				ibv_wc_status_str(wc.status));
			return -1;
		}
		if (posted < want && bw_post_recv(conn, b, posted++))
			return -1;
	}
	return 0;
}

static int bw_server(const struct bw_opts *o)
{
	struct pal_conn_attr attr = { .max_send_wr = 4, .max_recv_wr = 512,
				      .max_rd_atomic = 16 };
	uint64_t sizes[32];
	size_t n = bw_sizes(o, sizes);
	struct pal_remote_buf adv;
	struct bw_buf b = { 0 };
	struct pal_conn conn;
	uint64_t posted = 0;
	int rc = -1;

	pal_conn_init(&conn, &attr);
	conn.attr.timeout_ms = WAIT_MS;
	if (pal_conn_listen(&conn, o->addr, o->port) || pal_conn_get_request(&conn)) {
		fprintf(stderr, "bw: %s\n", conn.err);
		goto out;
	}
	if (bw_check_device(o, &conn) || bw_buf_init(&b, conn.pd, o, sizes[n - 1]))
		goto out;
	adv = (struct pal_remote_buf){ .addr = (uintptr_t)b.mr->addr, .len = b.mr->length,
				       .rkey = b.mr->rkey };
	/* Receives are posted before the client can send. */
	for (; o->verb == VERB_SEND && posted < attr.max_recv_wr &&
	       posted < bw_recv_total(o, n); posted++)
		if (bw_post_recv(&conn, &b, posted))
			goto out;
	if (pal_conn_accept(&conn, &adv)) {
		fprintf(stderr, "bw: %s\n", conn.err);
		goto out;
	}
	if (o->verb == VERB_SEND &&
	    bw_server_recv(&conn, &b, posted, bw_recv_total(o, n)))
		goto out;
	pal_conn_wait_disconnect(&conn);
	rc = 0;
out:
	bw_buf_fini(&b);
	pal_conn_destroy(&conn);
	return rc;
}

int bench_bw(int argc, char **argv)
{
	struct bw_opts o;

	if (bw_parse(argc, argv, &o))
		return 2;
	return (o.server ? bw_server(&o) : bw_client(&o)) ? 1 : 0;
}
