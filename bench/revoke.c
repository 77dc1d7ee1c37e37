// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pal_bench revoke: how long an exporter waits for its importers when it
 * revokes or moves a buffer with N dma-buf MRs on it.
 *
 * For each N a fresh test exporter buffer gets N MRs; the time measured is
 * that of DMA_BUF_PAL_TEST_REVOKE (pinned MRs) or DMA_BUF_PAL_TEST_MOVE
 * (on-demand MRs), which returns once every importer's invalidate_mappings
 * callback has returned, i.e. once no MR can reach the old memory. A move
 * also allocates and copies the buffer: the same move with no MR on the
 * buffer is measured too ("move_us_no_mr"), and the difference is the
 * importers' share.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <rdma_pal/testexp.h>

#include "bench.h"

#define MAX_COUNTS 16

struct revoke_opts {
	const char *device;
	unsigned int counts[MAX_COUNTS];
	size_t nr_counts;
	uint64_t size;
	uint64_t extent;
	unsigned int reps;
	struct bench_report_opts report;
};

enum { OPT_MRS = BENCH_OPT_FIRST, OPT_EXTENT };

static void revoke_usage(void)
{
	fprintf(stderr,
		"usage: pal_bench revoke [options]\n"
		"  -d, --ib-dev NAME       RDMA device (default: the first)\n"
		"      --mrs N             MRs on the buffer, repeatable (default 1 10 100 1000)\n"
		"  -s, --size BYTES        buffer size (default 1M)\n"
		"      --extent BYTES      test exporter extent size (default 64K)\n"
		"  -n, --iters N           repetitions per point (default 5)\n"
		BENCH_COMMON_USAGE
		"      --out_csv=F         the rows as CSV in F\n");
}

static int revoke_parse(int argc, char **argv, struct revoke_opts *o)
{
	static const struct option longopts[] = {
		{ "ib-dev", required_argument, NULL, 'd' },
		{ "mrs", required_argument, NULL, OPT_MRS },
		{ "size", required_argument, NULL, 's' },
		{ "extent", required_argument, NULL, OPT_EXTENT },
		{ "iters", required_argument, NULL, 'n' },
		BENCH_COMMON_LONGOPTS,
		{ 0 }
	};
	static const unsigned int defaults[] = { 1, 10, 100, 1000 };
	int c;

	*o = (struct revoke_opts){ .size = 1 << 20, .extent = 64 << 10, .reps = 5 };
	while ((c = getopt_long(argc, argv, "d:s:n:" BENCH_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (bench_common_opt(c, optarg, true, &o->report))
			continue;
		switch (c) {
		case 'd': o->device = optarg; break;
		case OPT_MRS:
			if (o->nr_counts == MAX_COUNTS)
				return revoke_usage(), -1;
			o->counts[o->nr_counts++] = strtoul(optarg, NULL, 0);
			break;
		case 's': o->size = bench_parse_size(optarg); break;
		case OPT_EXTENT: o->extent = bench_parse_size(optarg); break;
		case 'n': o->reps = strtoul(optarg, NULL, 0); break;
		default: revoke_usage(); return -1;
		}
	}
	if (!o->nr_counts)
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			o->counts[o->nr_counts++] = defaults[i];
	if (!o->size || !o->extent || !o->reps) {
		revoke_usage();
		return -1;
	}
	return 0;
}

/*
 * One measurement: a buffer with nr MRs, then a revoke (move = false) or a
 * move; *us gets the ioctl's duration. Fails if any mapping survived.
 */
static int revoke_once(struct ibv_pd *pd, const struct revoke_opts *o, unsigned int nr,
		       bool move, double *us)
{
	struct pal_mem_params params = { .size = o->size, .extent_size = o->extent };
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	struct ibv_mr **mrs = calloc(nr ? nr : 1, sizeof(*mrs));
	struct pal_mem mem = { 0 };
	uint32_t live = 0;
	uint64_t t0;
	int rc = -1, err;

	if (!mrs)
		return -1;
	if (move)
		access |= IBV_ACCESS_ON_DEMAND;
	if (pal_mem_alloc(&mem, &pal_mem_testexp_ops, &params)) {
		fprintf(stderr, "revoke: %s\n", mem.err);
		goto out;
	}
	for (unsigned int i = 0; i < nr; i++) {
		mrs[i] = ibv_reg_dmabuf_mr(pd, 0, mem.size, 0, mem.dmabuf_fd, access);
		if (!mrs[i]) {
			fprintf(stderr, "revoke: MR %u: %s\n", i, strerror(errno));
			goto out;
		}
	}
	t0 = bench_now_ns();
	err = move ? pal_testexp_move(mem.dmabuf_fd, &live) :
		     pal_testexp_revoke(mem.dmabuf_fd, &live);
	*us = (double)(bench_now_ns() - t0) / 1e3;
	if (err) {
		perror(move ? "revoke: DMA_BUF_PAL_TEST_MOVE" : "revoke: DMA_BUF_PAL_TEST_REVOKE");
		goto out;
	}
	if (live) {
		fprintf(stderr, "revoke: %u mapping(s) outlived the invalidation\n", live);
		goto out;
	}
	rc = 0;
out:
	for (unsigned int i = 0; i < nr; i++)
		if (mrs[i])
			ibv_dereg_mr(mrs[i]);
	free(mrs);
	pal_mem_free(&mem);
	return rc;
}

static int revoke_time(struct ibv_pd *pd, const struct revoke_opts *o, unsigned int nr,
		       bool move, struct bench_stats *st)
{
	double v[o->reps];

	for (unsigned int i = 0; i < o->reps; i++)
		if (revoke_once(pd, o, nr, move, &v[i]))
			return -1;
	bench_stats(v, o->reps, st);
	return 0;
}

int bench_revoke(int argc, char **argv)
{
	struct bench_stats no_mr;
	struct revoke_opts o;
	struct bench_out out;
	struct ibv_pd *pd;
	int rc = 1;

	if (revoke_parse(argc, argv, &o))
		return 2;
	pd = bench_alloc_pd(o.device);
	if (!pd)
		return 1;
	if (bench_out_open(&out, o.report.json, o.report.csv,
			   "mrs,revoke_us,revoke_us_min,revoke_us_max,revoke_us_p10,"
			   "revoke_us_p90,move_us,move_us_min,move_us_max,move_us_p10,"
			   "move_us_p90,move_us_no_mr\n"))
		goto out;
	if (revoke_time(pd, &o, 0, true, &no_mr))
		goto out;
	printf(" %6s %14s %14s %20s\n", "#MRs", "revoke [us]", "move [us]", "move, no MR [us]");
	for (size_t i = 0; i < o.nr_counts; i++) {
		struct bench_stats rev, mv;
		struct bench_json j;
		FILE *json;

		fprintf(stderr, "\rrevoke: %zu/%zu (%u MRs)   ", i + 1, o.nr_counts, o.counts[i]);
		if (revoke_time(pd, &o, o.counts[i], false, &rev) ||
		    revoke_time(pd, &o, o.counts[i], true, &mv))
			goto out;
		printf(" %6u %14.1f %14.1f %20.1f\n", o.counts[i], rev.median, mv.median,
		       no_mr.median);
		if (out.csv) {
			fprintf(out.csv, "%u,", o.counts[i]);
			bench_csv_stats(out.csv, &rev);
			bench_csv_stats(out.csv, &mv);
			fprintf(out.csv, "%.3f\n", no_mr.median);
		}
		json = bench_out_json_row(&out);
		if (json) {
			bench_json_open(&j, json);
			bench_json_u64(&j, "mrs", o.counts[i]);
			bench_json_u64(&j, "size", o.size);
			bench_json_u64(&j, "extent", o.extent);
			bench_json_stats(&j, "revoke_us", &rev);
			bench_json_stats(&j, "move_us", &mv);
			bench_json_dbl(&j, "move_us_no_mr", no_mr.median);
			bench_json_close(&j);
		}
	}
	fputc('\n', stderr);
	rc = 0;
out:
	bench_out_close(&out);
	bench_free_pd(pd);
	return rc;
}
