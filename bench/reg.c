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
 * the buffer (the last one ending at its end; more than fit overlap) and
 * held together before they are deregistered: the time per MR, against
 * the buffer's size, shows whether registering a window costs what the
 * window costs or what the buffer does. The baseline registers the same
 * windows of the same pages, or, where those cannot be pinned, N windows
 * of W bytes held together in anonymous memory of N x W bytes (at most the
 * buffer's size, the windows overlapping alike).
 *
 * While the last repetition holds its MRs, restrack is asked what each
 * keeps to translate its addresses ("mr_bytes", as the kernel allocated
 * it) and which exporter's list the dma-buf MRs share
 * ("dmabuf_list_bytes"): the metadata of both paths, measured.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/testexp.h>

#include "bench.h"

#define MAX_SPECS 16
#define MAX_SIZES 32
#define MAX_HELD 16

struct reg_opts {
	const char *device;
	const char *specs[MAX_SPECS];
	size_t nr_specs;
	uint64_t min_size, max_size;
	uint64_t sizes[MAX_SIZES];	/* -s, repeatable: these sizes only */
	size_t nr_sizes;
	uint64_t window;		/* 0: the whole buffer */
	unsigned int held[MAX_HELD];	/* --held-mrs, repeatable: windows held at once */
	size_t nr_held;
	bool anonymous_baseline;	/* also anonymous memory of the same size */
	uint64_t anonymous_max;		/* ... up to this size; 0: any */
	unsigned int reps;
	struct bench_report_opts report;
};

enum {
	OPT_MEMORY = BENCH_OPT_FIRST, OPT_MIN_SIZE, OPT_MAX_SIZE, OPT_WINDOW, OPT_HELD_MRS,
	OPT_ANON_BASELINE, OPT_ANON_MAX,
};

static void reg_usage(void)
{
	fprintf(stderr,
		"usage: pal_bench reg [options]\n"
		"  -d, --ib-dev NAME       RDMA device (default: the first)\n"
		"      --memory SPEC       BACKEND[:EXTENT[:SEED]], repeatable (default\n"
		"                          udmabuf, heap, testexp:4K:1, testexp:64K:1, testexp:2M)\n"
		"  -s, --size BYTES        this size only; repeatable\n"
		"      --min-size BYTES    smallest size (default 4K)\n"
		"      --max-size BYTES    largest size, powers of 4 in between (default 256M)\n"
		"      --window BYTES      register windows of BYTES, not whole buffers\n"
		"      --held-mrs N        windows held at once, spread over the buffer\n"
		"                          (default 1, the buffer's last BYTES); repeatable\n"
		"      --anonymous-baseline  also register anonymous 4 KiB memory of the\n"
		"                          same size (the same windows' span)\n"
		"      --anonymous-max BYTES  ... for buffers up to BYTES only\n"
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
		{ "anonymous-baseline", no_argument, NULL, OPT_ANON_BASELINE },
		{ "anonymous-max", required_argument, NULL, OPT_ANON_MAX },
		BENCH_COMMON_LONGOPTS,
		{ 0 }
	};
	static const char *const defaults[] = {
		"udmabuf", "heap", "testexp:4K:1", "testexp:64K:1", "testexp:2M"
	};
	int c;

	*o = (struct reg_opts){ .min_size = 4096, .max_size = 256 << 20, .reps = 5 };
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
		case 's':
			if (o->nr_sizes == MAX_SIZES)
				return reg_usage(), -1;
			o->sizes[o->nr_sizes] = bench_parse_size(optarg);
			if (!o->sizes[o->nr_sizes++])
				return reg_usage(), -1;
			break;
		case OPT_MIN_SIZE: o->min_size = bench_parse_size(optarg); break;
		case OPT_MAX_SIZE: o->max_size = bench_parse_size(optarg); break;
		case 'n': o->reps = strtoul(optarg, NULL, 0); break;
		case OPT_WINDOW:
			o->window = bench_parse_size(optarg);
			if (!o->window)
				return reg_usage(), -1;
			break;
		case OPT_HELD_MRS:
			if (o->nr_held == MAX_HELD)
				return reg_usage(), -1;
			o->held[o->nr_held++] = strtoul(optarg, NULL, 0);
			break;
		case OPT_ANON_BASELINE: o->anonymous_baseline = true; break;
		case OPT_ANON_MAX:
			o->anonymous_max = bench_parse_size(optarg);
			if (!o->anonymous_max)
				return reg_usage(), -1;
			break;
		default: reg_usage(); return -1;
		}
	}
	if (!o->nr_specs)
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			o->specs[o->nr_specs++] = defaults[i];
	/* Without -s: min_size, then times 4 up to max_size. */
	if (!o->nr_sizes)
		for (uint64_t sz = o->min_size; sz && sz <= o->max_size; sz *= 4)
			if (o->nr_sizes < MAX_SIZES)
				o->sizes[o->nr_sizes++] = sz;
	o->min_size = o->sizes[0];
	for (size_t i = 0; i < o->nr_sizes; i++)
		if (o->sizes[i] < o->min_size)
			o->min_size = o->sizes[i];
	if (!o->nr_held)
		o->held[o->nr_held++] = 1;
	for (size_t i = 0; i < o->nr_held; i++)
		if (!o->held[i] || o->held[i] > 100000 || (!o->window && o->held[i] != 1))
			return reg_usage(), -1;
	if (!o->nr_sizes || !o->reps ||
	    (o->window && (o->window % 4096 || o->window > o->min_size))) {
		reg_usage();
		return -1;
	}
	return 0;
}

struct reg_stats {
	struct bench_stats reg;		/* microseconds */
	double dereg_med;
};

/* What the kernel says a path's MRs keep; measured is false if it cannot. */
struct reg_bytes {
	bool measured;
	struct bench_mr_bytes b;
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
 * its own length starts at cpu. With bytes, restrack's report of what the
 * MRs keep is read while the last repetition holds them all.
 */
static int reg_time(struct ibv_pd *pd, const struct pal_mem *mem, void *cpu,
		    const struct reg_windows *w, unsigned int reps, struct reg_stats *st,
		    struct reg_bytes *bytes)
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
		if (bytes && !err && r == reps - 1)
			bytes->measured =
				!bench_mr_bytes(ibv_get_device_name(pd->context->device),
						&bytes->b) && bytes->b.nr_mrs == w->nr;
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

/* One registration path measured at one point: its times, bytes or failure. */
struct reg_path {
	const char *memory;		/* the baselines: "same pages" or "anonymous" */
	int err;			/* errno of a baseline that failed; 0 if measured */
	struct reg_stats st;
	struct reg_bytes bytes;
};

struct reg_row {
	const char *spec;
	uint64_t size;
	uint32_t extents;		/* ranges of the exporter's list */
	uint64_t window;		/* bytes per MR */
	unsigned int nr_mrs;		/* MRs held at once */
	struct reg_path pal;		/* the dma-buf MRs */
	struct reg_path base;		/* ibv_reg_mr of the same pages, or anonymous */
	struct reg_path anon;		/* with --anonymous-baseline: anonymous memory */
	bool has_anon;			/* anon was measured */
	bool anon_column;		/* the CSV has anon's fields */
};

/* Bytes per MR, and the list the MRs share, as JSON fields of @path. */
static void reg_bytes_json(struct bench_json *j, const char *path, const struct reg_bytes *b)
{
	char key[48];

	if (!b->measured)
		return;
	snprintf(key, sizeof(key), "mr_bytes_%s", path);
	bench_json_u64(j, key, b->b.mr_bytes / b->b.nr_mrs);
	snprintf(key, sizeof(key), "list_bytes_%s", path);
	bench_json_u64(j, key, b->b.list_bytes);
}

/* A baseline's fields: its memory, and its times and bytes or its errno. */
static void reg_path_json(struct bench_json *j, const char *name, const struct reg_path *p)
{
	char key[48];

	snprintf(key, sizeof(key), "%s_memory", name);
	bench_json_str(j, key, p->memory);
	if (p->err) {
		snprintf(key, sizeof(key), "%s_error", name);
		bench_json_str(j, key, pal_errno_name(p->err));
		return;
	}
	snprintf(key, sizeof(key), "reg_us_%s", name);
	bench_json_stats(j, key, &p->st.reg);
	snprintf(key, sizeof(key), "dereg_us_%s", name);
	bench_json_dbl(j, key, p->st.dereg_med);
	reg_bytes_json(j, name, &p->bytes);
}

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
	bench_json_stats(&j, "reg_us_pal", &r->pal.st.reg);
	bench_json_dbl(&j, "dereg_us_pal", r->pal.st.dereg_med);
	reg_bytes_json(&j, "pal", &r->pal.bytes);
	reg_path_json(&j, "baseline", &r->base);
	if (!r->base.err)
		bench_json_dbl(&j, "ratio_pal_over_baseline",
			       r->base.st.reg.median > 0 ?
			       r->pal.st.reg.median / r->base.st.reg.median : 0);
	if (r->has_anon)
		reg_path_json(&j, "anon", &r->anon);
	bench_json_close(&j);
}

/*
 * A path as CSV fields: "median,min,max,p10,p90,dereg,mr_bytes,list_bytes,",
 * empty where not measured.
 */
static void reg_path_csv(FILE *f, const struct reg_path *p)
{
	if (p->err)
		fputs(",,,,,,", f);
	else {
		bench_csv_stats(f, &p->st.reg);
		fprintf(f, "%.3f,", p->st.dereg_med);
	}
	if (!p->err && p->bytes.measured)
		fprintf(f, "%llu,%llu,",
			(unsigned long long)(p->bytes.b.mr_bytes / p->bytes.b.nr_mrs),
			(unsigned long long)p->bytes.b.list_bytes);
	else
		fputs(",,", f);
}

static void reg_row_csv(FILE *f, const struct reg_row *r)
{
	fprintf(f, "%s,%llu,%u,%llu,%u,", r->spec, (unsigned long long)r->size, r->extents,
		(unsigned long long)r->window, r->nr_mrs);
	reg_path_csv(f, &r->pal);
	fprintf(f, "%s,%s,", r->base.memory, r->base.err ? pal_errno_name(r->base.err) : "");
	reg_path_csv(f, &r->base);
	if (r->has_anon) {
		fprintf(f, "%s,", r->anon.err ? pal_errno_name(r->anon.err) : "");
		reg_path_csv(f, &r->anon);
	} else if (r->anon_column) {
		fputs(",,,,,,,,,", f);
	}
	fputc('\n', f);
}

#define REG_CSV_PATH(p) "reg_us_" p ",reg_us_" p "_min,reg_us_" p "_max,reg_us_" p "_p10," \
	"reg_us_" p "_p90,dereg_us_" p ",mr_bytes_" p ",list_bytes_" p

/* The smallest buffer a memory spec makes: one extent or huge page. */
static uint64_t reg_min_size(const char *spec)
{
	struct pal_mem_params params = { 0 };
	const struct pal_mem_ops *ops;

	if (bench_parse_memory(spec, &ops, &params))
		return 0;
	return params.extent_size;
}

/* Bytes per MR (the shared list included once) or "-" if not measured. */
static void reg_bytes_print(const struct reg_path *p)
{
	const struct reg_bytes *b = &p->bytes;

	if (!p->err && b->measured)
		printf(" %12llu", (unsigned long long)((b->b.mr_bytes + b->b.list_bytes) /
						       b->b.nr_mrs));
	else
		printf(" %12s", "-");
}

/* A baseline's median, or its errno. */
static void reg_time_print(const struct reg_path *p)
{
	if (p->err)
		printf(" %14s", pal_errno_name(p->err));
	else
		printf(" %14.1f", p->st.reg.median);
}

static void reg_row_print(const struct reg_row *r)
{
	printf(" %-16s %12llu %8u %10llu %6u %14.1f", r->spec, (unsigned long long)r->size,
	       r->extents, (unsigned long long)r->window, r->nr_mrs, r->pal.st.reg.median);
	reg_time_print(&r->base);
	if (r->base.err)
		printf(" %8s", "-");
	else
		printf(" %8.3f", r->pal.st.reg.median / r->base.st.reg.median);
	reg_bytes_print(&r->pal);
	reg_bytes_print(&r->base);
	if (r->has_anon) {
		reg_time_print(&r->anon);
		reg_bytes_print(&r->anon);
	} else if (r->anon_column) {
		printf(" %14s %12s", "-", "-");
	}
	putchar('\n');
}

/*
 * Time a baseline: registrations of @cpu that fail do not end the run (rxe
 * cannot register more than 1 GiB of 4 KiB pages, for one), they are
 * reported with their errno.
 */
static void reg_baseline(struct ibv_pd *pd, const struct pal_mem *mem, void *cpu,
			 const struct reg_windows *w, unsigned int reps, struct reg_path *p)
{
	if (reg_time(pd, mem, cpu, w, 1, &p->st, NULL) ||
	    reg_time(pd, mem, cpu, w, reps, &p->st, &p->bytes))
		p->err = errno ? errno : EIO;
}

/* Anonymous memory of @span bytes, faulted in: the pages exist, as the exporter's do. */
static int reg_anon_alloc(struct pal_mem *anon, uint64_t span)
{
	if (pal_mem_alloc(anon, &pal_mem_host_ops, &(struct pal_mem_params){ .size = span })) {
		fprintf(stderr, "reg: %s\n", anon->err);
		return -1;
	}
	memset(anon->cpu, 0, anon->size);
	return 0;
}

/* One row: @nr_mrs windows of the buffer @mem, each path in turn. */
static int reg_point(struct ibv_pd *pd, const struct reg_opts *o, const char *spec,
		     const struct pal_mem *mem, unsigned int nr_mrs, struct reg_row *row)
{
	struct pal_mem anon = { 0 };
	struct reg_windows win, base_win;
	void *base_cpu;
	int rc = -1;

	win = (struct reg_windows){ .length = o->window ? o->window : mem->size,
				    .nr = nr_mrs, .span = mem->size };
	base_win = win;
	*row = (struct reg_row){ .spec = spec, .size = mem->size, .window = win.length,
				 .nr_mrs = win.nr, .anon_column = o->anonymous_baseline,
				 .has_anon = o->anonymous_baseline &&
					     (!o->anonymous_max || mem->size <= o->anonymous_max) };
	if (pal_dmabuf_inspect(mem->dmabuf_fd, &row->extents, NULL))
		row->extents = 0;
	/*
	 * One untimed registration of each path first, so that neither is
	 * timed cold (and the exporter has built its list): the baseline's
	 * is its probe below.
	 */
	if (reg_time(pd, mem, NULL, &win, 1, &row->pal.st, NULL) ||
	    reg_time(pd, mem, NULL, &win, o->reps, &row->pal.st, &row->pal.bytes)) {
		fprintf(stderr, "reg: ibv_reg_dmabuf_mr(%s, %llu bytes): %s\n", spec,
			(unsigned long long)win.length, strerror(errno));
		return -1;
	}
	base_cpu = mem->cpu;
	row->base.memory = "same pages";
	if (!base_cpu || reg_time(pd, mem, base_cpu, &base_win, 1, &row->base.st, NULL)) {
		/*
		 * The CPU view cannot be pinned (a PFN mapping: EFAULT):
		 * anonymous memory of the buffer's size, or just room for the
		 * same windows. Any other failure is the baseline's result.
		 */
		if (base_cpu && errno != EFAULT && errno != EOPNOTSUPP && errno != EINVAL) {
			row->base.err = errno;
			goto anon;
		}
		base_win.span = o->window ? (uint64_t)win.nr * win.length : mem->size;
		/* Windows that overlap on the buffer overlap alike here. */
		if (base_win.span > mem->size)
			base_win.span = mem->size;
		if (reg_anon_alloc(&anon, base_win.span))
			goto out;
		base_cpu = anon.cpu;
		row->base.memory = "anonymous";
		row->has_anon = false;	/* the baseline is anonymous already */
	}
	reg_baseline(pd, mem, base_cpu, &base_win, o->reps, &row->base);
anon:
	if (row->has_anon) {
		row->anon.memory = "anonymous";
		base_win.span = o->window ? (uint64_t)win.nr * win.length : mem->size;
		if (base_win.span > mem->size)
			base_win.span = mem->size;
		if (reg_anon_alloc(&anon, base_win.span))
			goto out;
		reg_baseline(pd, mem, anon.cpu, &base_win, o->reps, &row->anon);
	}
	rc = 0;
out:
	pal_mem_free(&anon);
	return rc;
}

/* Every row of one memory spec and size: one buffer for all MR counts. */
static int reg_buffer(struct ibv_pd *pd, const struct reg_opts *o, const char *spec,
		      uint64_t size, struct bench_out *out)
{
	struct pal_mem_params params = { 0 };
	struct pal_mem mem = { 0 };
	const struct pal_mem_ops *ops;
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
	for (size_t k = 0; k < o->nr_held; k++) {
		struct reg_row row;
		FILE *json;

		if (reg_point(pd, o, spec, &mem, o->held[k], &row))
			goto out;
		reg_row_print(&row);
		fflush(stdout);
		json = bench_out_json_row(out);
		if (json)
			reg_row_json(json, &row);
		if (out->csv)
			reg_row_csv(out->csv, &row);
	}
	rc = 0;
out:
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
			   o.anonymous_baseline ?
			   "memory,size,extents,window,mrs," REG_CSV_PATH("pal")
			   ",baseline_memory,baseline_error," REG_CSV_PATH("baseline")
			   ",anon_error," REG_CSV_PATH("anon") ",\n" :
			   "memory,size,extents,window,mrs," REG_CSV_PATH("pal")
			   ",baseline_memory,baseline_error," REG_CSV_PATH("baseline") ",\n"))
		goto out;
	for (size_t i = 0; i < o.nr_specs; i++)
		for (size_t k = 0; k < o.nr_sizes; k++)
			total += o.sizes[k] >= reg_min_size(o.specs[i]);
	/* meta: bytes each MR keeps, the list its buffer shares included. */
	printf(" %-16s %12s %8s %10s %6s %14s %14s %8s %12s %12s%s\n", "memory", "bytes",
	       "extents", "MR length", "MRs", "dmabuf reg[us]", "reg_mr [us]", "ratio",
	       "dmabuf meta", "reg_mr meta",
	       o.anonymous_baseline ? "    anon [us]    anon meta" : "");
	for (size_t i = 0; i < o.nr_specs; i++) {
		for (size_t k = 0; k < o.nr_sizes; k++) {
			uint64_t s = o.sizes[k];

			/* A buffer smaller than one extent would be rounded up. */
			if (s < reg_min_size(o.specs[i]))
				continue;
			fprintf(stderr, "\rreg: %zu/%zu %s %llu bytes   ", ++n, total,
				o.specs[i], (unsigned long long)s);
			if (reg_buffer(pd, &o, o.specs[i], s, &out))
				goto out;
		}
	}
	fputc('\n', stderr);
	rc = 0;
out:
	bench_out_close(&out);
	bench_free_pd(pd);
	return rc;
}
