// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pal_bench reg: time to register and deregister an MR, against size and
 * memory layout, for a dma-buf MR (the physical address list import) and
 * for ibv_reg_mr of the same pages (the baseline).
 *
 * For each memory spec and size one buffer is allocated; each repetition
 * registers and deregisters it once per path. Medians and the 10th/90th
 * percentiles are reported. The baseline registers the backend's CPU view
 * when the kernel can pin it (udmabuf's memfd pages); where it cannot (a
 * test exporter or heap mapping without struct-page pinning), it registers
 * anonymous memory of the same size and says so in "baseline_memory".
 *
 * With --window W the MRs are windows of W bytes of each buffer, not the
 * whole buffer, and --held-mrs N registers N of them, spread evenly over
 * the buffer (the last one ending at its end) and held together before
 * they are deregistered: the time per MR, against the buffer's size, shows
 * whether registering a window costs what the window costs or what the
 * buffer does. The baseline registers the same windows of the same pages,
 * or, where those cannot be pinned, N windows of W bytes held together in
 * anonymous memory of N x W bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdma_pal/testexp.h>

#include "bench.h"

#define MAX_SPECS 16
#define MAX_SIZES 32

struct reg_opts {
	const char *device;
	const char *specs[MAX_SPECS];
	size_t nr_specs;
	uint64_t min_size, max_size;
	uint64_t window;		/* 0: the whole buffer */
	unsigned int nr_mrs;		/* windows held at once */
	unsigned int reps;
	struct bench_report_opts report;
};

enum { OPT_MEMORY = BENCH_OPT_FIRST, OPT_MIN_SIZE, OPT_MAX_SIZE, OPT_WINDOW, OPT_HELD_MRS };

static void reg_usage(void)
{
	fprintf(stderr,
		"usage: pal_bench reg [options]\n"
		"  -d, --ib-dev NAME       RDMA device (default: the first)\n"
		"      --memory SPEC       BACKEND[:EXTENT[:SEED]], repeatable (default\n"
		"                          udmabuf, heap, testexp:4K:1, testexp:64K:1, testexp:2M)\n"
		"  -s, --size BYTES        one size only\n"
		"      --min-size BYTES    smallest size (default 4K)\n"
		"      --max-size BYTES    largest size, powers of 4 in between (default 256M)\n"
		"      --window BYTES      register windows of BYTES, not whole buffers\n"
		"      --held-mrs N        windows held at once, spread over the buffer\n"
		"                          (default 1, the buffer's last BYTES)\n"
		"  -n, --iters N           repetitions per point (default 5)\n"
		BENCH_COMMON_USAGE
		"      --out_csv=F         the rows as CSV in F\n");
}

static int reg_parse(int argc, char **argv, struct reg_opts *o)
{
	static const struct option longopts[] = {
		{ "ib-dev", required_argument, NULL, 'd' },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "size", required_argument, NULL, 's' },
		{ "min-size", required_argument, NULL, OPT_MIN_SIZE },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "iters", required_argument, NULL, 'n' },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "held-mrs", required_argument, NULL, OPT_HELD_MRS },
		BENCH_COMMON_LONGOPTS,
		{ 0 }
	};
	static const char *const defaults[] = {
		"udmabuf", "heap", "testexp:4K:1", "testexp:64K:1", "testexp:2M"
	};
	int c;

	*o = (struct reg_opts){ .min_size = 4096, .max_size = 256 << 20, .reps = 5, .nr_mrs = 1 };
	while ((c = getopt_long(argc, argv, "d:s:n:" BENCH_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (bench_common_opt(c, optarg, true, &o->report))
			continue;
		switch (c) {
		case 'd': o->device = optarg; break;
		case OPT_MEMORY:
			if (o->nr_specs == MAX_SPECS)
				return reg_usage(), -1;
			o->specs[o->nr_specs++] = optarg;
			break;
		case 's': o->min_size = o->max_size = bench_parse_size(optarg); break;
		case OPT_MIN_SIZE: o->min_size = bench_parse_size(optarg); break;
		case OPT_MAX_SIZE: o->max_size = bench_parse_size(optarg); break;
		case 'n': o->reps = strtoul(optarg, NULL, 0); break;
		case OPT_WINDOW:
			o->window = bench_parse_size(optarg);
			if (!o->window)
				return reg_usage(), -1;
			break;
		case OPT_HELD_MRS: o->nr_mrs = strtoul(optarg, NULL, 0); break;
		default: reg_usage(); return -1;
		}
	}
	if (!o->nr_specs)
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			o->specs[o->nr_specs++] = defaults[i];
	if (!o->min_size || o->max_size < o->min_size || !o->reps || !o->nr_mrs ||
	    o->nr_mrs > 100000 || (o->window && (o->window % 4096 || o->window > o->min_size)) ||
	    (!o->window && o->nr_mrs != 1) ||
	    (o->window && (uint64_t)o->nr_mrs * o->window > o->max_size)) {
		reg_usage();
		return -1;
	}
	return 0;
}

struct reg_stats {
	struct bench_stats reg;		/* microseconds */
	double dereg_med;
};

/* What one repetition registers: nr windows of length bytes. */
struct reg_windows {
	uint64_t length;
	unsigned int nr;
	uint64_t span;		/* bytes the windows are spread over */
};

/* Window i of nr, page aligned, the last one ending at the span's end. */
static uint64_t reg_window_offset(const struct reg_windows *w, unsigned int i)
{
	uint64_t room = w->span - w->length;

	if (w->nr == 1)
		return room;
	return (room * i / (w->nr - 1)) & ~4095ULL;
}

/*
 * Register the windows and deregister them, reps times; each MR's
 * registration is one sample, the deregistrations are timed together.
 * cpu is NULL for dma-buf MRs; a window of the baseline with a span of
 * its own length starts at cpu.
 */
static int reg_time(struct ibv_pd *pd, const struct pal_mem *mem, void *cpu,
		    const struct reg_windows *w, unsigned int reps, struct reg_stats *st)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;
	size_t nr_samples = (size_t)reps * w->nr;
	double *reg = calloc(nr_samples, sizeof(*reg));
	double *dereg = calloc(reps, sizeof(*dereg));
	struct ibv_mr **mrs = calloc(w->nr, sizeof(*mrs));
	int rc = -1;

	if (!reg || !dereg || !mrs)
		goto out;
	for (unsigned int r = 0; r < reps; r++) {
		unsigned int i, held = 0;
		int err = 0;
		uint64_t t0, t1;

		for (i = 0; i < w->nr; i++, held++) {
			uint64_t off = reg_window_offset(w, i);

			t0 = bench_now_ns();
			mrs[i] = cpu ? ibv_reg_mr(pd, (char *)cpu + off, w->length, access) :
				       ibv_reg_dmabuf_mr(pd, off, w->length, off, mem->dmabuf_fd,
							 access);
			t1 = bench_now_ns();
			if (!mrs[i]) {
				err = errno;
				break;
			}
			reg[(size_t)r * w->nr + i] = (double)(t1 - t0) / 1e3;
		}
		/* Every MR goes, whatever fails: the memory is freed next. */
		t0 = bench_now_ns();
		for (i = 0; i < held; i++)
			if (ibv_dereg_mr(mrs[i]) && !err)
				err = errno;
		t1 = bench_now_ns();
		if (err) {
			errno = err;
			goto out;
		}
		dereg[r] = (double)(t1 - t0) / 1e3 / w->nr;
	}
	bench_stats(reg, nr_samples, &st->reg);
	st->dereg_med = bench_quantile(dereg, reps, 0.5);
	rc = 0;
out:
	/* errno stays the failure's for the caller's message. */
	{
		int saved = errno;

		free(mrs);
		free(dereg);
		free(reg);
		errno = saved;
	}
	return rc;
}

struct reg_row {
	const char *spec;
	uint64_t size;
	uint32_t extents;		/* ranges of the exporter's list */
	const char *baseline_memory;	/* "same pages" or "anonymous" */
	uint64_t window;		/* bytes per MR */
	unsigned int nr_mrs;		/* MRs held at once */
	struct reg_stats pal, base;
};

static void reg_row_json(FILE *f, const struct reg_row *r)
{
	struct bench_json j;

	bench_json_open(&j, f);
	bench_json_str(&j, "memory", r->spec);
	bench_json_u64(&j, "size", r->size);
	bench_json_u64(&j, "extents", r->extents);
	bench_json_u64(&j, "pages", r->size / 4096);
	bench_json_u64(&j, "window", r->window);
	bench_json_u64(&j, "mrs", r->nr_mrs);
	bench_json_stats(&j, "reg_us_pal", &r->pal.reg);
	bench_json_dbl(&j, "dereg_us_pal", r->pal.dereg_med);
	bench_json_str(&j, "baseline_memory", r->baseline_memory);
	bench_json_stats(&j, "reg_us_baseline", &r->base.reg);
	bench_json_dbl(&j, "dereg_us_baseline", r->base.dereg_med);
	bench_json_dbl(&j, "ratio_pal_over_baseline",
		       r->base.reg.median > 0 ? r->pal.reg.median / r->base.reg.median : 0);
	bench_json_close(&j);
}

static void reg_row_csv(FILE *f, const struct reg_row *r)
{
	fprintf(f, "%s,%llu,%u,%llu,%u,", r->spec, (unsigned long long)r->size, r->extents,
		(unsigned long long)r->window, r->nr_mrs);
	bench_csv_stats(f, &r->pal.reg);
	fprintf(f, "%.3f,%s,", r->pal.dereg_med, r->baseline_memory);
	bench_csv_stats(f, &r->base.reg);
	fprintf(f, "%.3f\n", r->base.dereg_med);
}

/* The smallest buffer a memory spec makes: one extent of a test exporter. */
static uint64_t reg_min_size(const char *spec)
{
	struct pal_mem_params params = { 0 };
	const struct pal_mem_ops *ops;

	if (bench_parse_memory(spec, &ops, &params))
		return 0;
	return params.extent_size;
}

static int reg_point(struct ibv_pd *pd, const struct reg_opts *o, const char *spec,
		     uint64_t size, struct reg_row *row)
{
	struct pal_mem_params params = { 0 };
	struct pal_mem mem = { 0 }, anon = { 0 };
	const struct pal_mem_ops *ops;
	struct reg_windows win, base_win;
	void *base_cpu;
	int rc = -1;

	if (bench_parse_memory(spec, &ops, &params)) {
		fprintf(stderr, "reg: unknown memory '%s'\n", spec);
		return -1;
	}
	params.size = size;
	if (pal_mem_alloc(&mem, ops, &params)) {
		fprintf(stderr, "reg: %s\n", mem.err);
		return -1;
	}
	win = (struct reg_windows){ .length = o->window ? o->window : mem.size,
				    .nr = o->nr_mrs, .span = mem.size };
	base_win = win;
	*row = (struct reg_row){ .spec = spec, .size = mem.size, .window = win.length,
				 .nr_mrs = win.nr };
	if (pal_dmabuf_inspect(mem.dmabuf_fd, &row->extents, NULL))
		row->extents = 0;
	/*
	 * One untimed registration of each path first, so that neither is
	 * timed cold (and the exporter has built its list): the baseline's
	 * is its probe below.
	 */
	if (reg_time(pd, &mem, NULL, &win, 1, &row->pal) ||
	    reg_time(pd, &mem, NULL, &win, o->reps, &row->pal)) {
		fprintf(stderr, "reg: ibv_reg_dmabuf_mr(%s, %llu bytes): %s\n", spec,
			(unsigned long long)win.length, strerror(errno));
		goto out;
	}
	base_cpu = mem.cpu;
	row->baseline_memory = "same pages";
	if (!base_cpu || reg_time(pd, &mem, base_cpu, &base_win, 1, &row->base)) {
		/*
		 * The CPU view cannot be pinned (a PFN mapping: EFAULT):
		 * anonymous memory of the buffer's size, or just room for the
		 * same windows. Any other failure is one.
		 */
		if (base_cpu && errno != EFAULT && errno != EOPNOTSUPP && errno != EINVAL) {
			fprintf(stderr, "reg: ibv_reg_mr of the same pages: %s\n",
				strerror(errno));
			goto out;
		}
		base_win.span = o->window ? (uint64_t)win.nr * win.length : mem.size;
		if (pal_mem_alloc(&anon, &pal_mem_host_ops,
				  &(struct pal_mem_params){ .size = base_win.span })) {
			fprintf(stderr, "reg: %s\n", anon.err);
			goto out;
		}
		/* Fault it in first: the pages exist, as the exporter's do. */
		memset(anon.cpu, 0, anon.size);
		base_cpu = anon.cpu;
		row->baseline_memory = "anonymous";
	}
	if (reg_time(pd, &mem, base_cpu, &base_win, o->reps, &row->base)) {
		fprintf(stderr, "reg: ibv_reg_mr(%llu bytes): %s\n",
			(unsigned long long)base_win.length, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pal_mem_free(&anon);
	pal_mem_free(&mem);
	return rc;
}

int bench_reg(int argc, char **argv)
{
	struct bench_out out;
	struct reg_opts o;
	struct ibv_pd *pd;
	size_t n = 0, total = 0;
	int rc = 1;

	if (reg_parse(argc, argv, &o))
		return 2;
	pd = bench_alloc_pd(o.device);
	if (!pd)
		return 1;
	if (bench_out_open(&out, o.report.json, o.report.csv,
			   "memory,size,extents,window,mrs,reg_us_pal,reg_us_pal_min,reg_us_pal_max,"
			   "reg_us_pal_p10,reg_us_pal_p90,dereg_us_pal,baseline_memory,"
			   "reg_us_baseline,reg_us_baseline_min,reg_us_baseline_max,"
			   "reg_us_baseline_p10,reg_us_baseline_p90,dereg_us_baseline\n"))
		goto out;
	for (size_t i = 0; i < o.nr_specs; i++)
		for (uint64_t s = o.min_size; s <= o.max_size; s *= 4)
			total += s >= reg_min_size(o.specs[i]) &&
				 (!o.window || (uint64_t)o.nr_mrs * o.window <= s);
	printf(" %-16s %10s %8s %10s %6s %14s %14s %8s\n", "memory", "bytes", "extents",
	       "MR bytes", "MRs", "dmabuf reg[us]", "reg_mr [us]", "ratio");
	for (size_t i = 0; i < o.nr_specs; i++) {
		for (uint64_t s = o.min_size; s <= o.max_size; s *= 4) {
			struct reg_row row;
			FILE *json;

			/* A buffer smaller than one extent would be rounded up. */
			if (s < reg_min_size(o.specs[i]))
				continue;
			/* Each window has its own pages. */
			if (o.window && (uint64_t)o.nr_mrs * o.window > s)
				continue;
			fprintf(stderr, "\rreg: %zu/%zu %s %llu bytes   ", ++n, total,
				o.specs[i], (unsigned long long)s);
			if (reg_point(pd, &o, o.specs[i], s, &row))
				goto out;
			printf(" %-16s %10llu %8u %10llu %6u %14.1f %14.1f %8.3f\n", row.spec,
			       (unsigned long long)row.size, row.extents,
			       (unsigned long long)row.window, row.nr_mrs, row.pal.reg.median,
			       row.base.reg.median, row.pal.reg.median / row.base.reg.median);
			json = bench_out_json_row(&out);
			if (json)
				reg_row_json(json, &row);
			if (out.csv)
				reg_row_csv(out.csv, &row);
		}
	}
	fputc('\n', stderr);
	rc = 0;
out:
	bench_out_close(&out);
	bench_free_pd(pd);
	return rc;
}
