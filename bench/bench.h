/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pal_bench: perftest-style benchmarks of dma-buf MRs (physical address
 * list import) against ordinary MRs of the same pages. Subcommands live in
 * bw.c, reg.c, revoke.c and topo.c; this header holds what they share.
 */
#ifndef PAL_BENCH_H
#define PAL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rdma_pal/mem.h>

/* Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);

/*
 * Sort v[0..n) and return its q-quantile (0 <= q <= 1), interpolated
 * between the two nearest ranks.
 */
double bench_quantile(double *v, size_t n, double q);

/* Fewer samples than this give min/median/max only: no percentiles. */
#define BENCH_PCTL_MIN_SAMPLES 10

struct bench_stats {
	double min, median, max;
	bool has_pctl;		/* p10 and p90 are set */
	double p10, p90;
};

/* Order statistics of v[0..n) (sorts v). */
void bench_stats(double *v, size_t n, struct bench_stats *st);

/* Parse "4K", "2M", "1G" or plain bytes; 0 on a bad string. */
uint64_t bench_parse_size(const char *s);

/*
 * Memory described as "BACKEND[:EXTENT[:SEED]]": the backend name and, for
 * the test exporter, its extent size and shuffle seed.
 */
int bench_parse_memory(const char *spec, const struct pal_mem_ops **ops,
		       struct pal_mem_params *params);

/*
 * The memory restrack reports for the calling process's MRs on RDMA device
 * dev ('rdma -dd -j resource show mr'): how many report "mr_bytes" (what
 * each keeps to translate its addresses, as the kernel allocated it), their
 * sum, and the largest "dmabuf_list_bytes" (the exporter's list a dma-buf
 * MR holds: the exporters measured keep one per buffer, which its MRs
 * share, so it is counted once).
 */
struct bench_mr_bytes {
	unsigned int nr_mrs;
	uint64_t mr_bytes;
	uint64_t list_bytes;
};

/* 0, or -1 if the rdma tool failed or no MR of ours reported its bytes. */
int bench_mr_bytes(const char *dev, struct bench_mr_bytes *b);

/* Open the RDMA device called name, or NULL with a message. */
struct ibv_context *bench_open_device(const char *name);

/*
 * The tables of a sweep: a JSON array of row objects and a CSV file, either
 * of which may be absent.
 */
struct bench_out {
	FILE *json;
	FILE *csv;
	size_t rows;
};
/* Open the files given (NULL: none); 0, or -1 with a message. */
int bench_out_open(struct bench_out *out, const char *json_path,
		   const char *csv_path, const char *csv_header);
/* Start the next JSON row; NULL when there is no JSON output. */
FILE *bench_out_json_row(struct bench_out *out);
/* Close the array and the files. */
void bench_out_close(struct bench_out *out);

/* A protection domain on the RDMA device called name (NULL: the first). */
struct ibv_pd *bench_alloc_pd(const char *name);
/* Free it and close its device. */
void bench_free_pd(struct ibv_pd *pd);

/* Minimal JSON output: one object per call, keys in order. */
struct bench_json {
	FILE *f;
	bool first;
};
void bench_json_open(struct bench_json *j, FILE *f);
void bench_json_str(struct bench_json *j, const char *key, const char *val);
void bench_json_u64(struct bench_json *j, const char *key, uint64_t val);
void bench_json_dbl(struct bench_json *j, const char *key, double val);
void bench_json_close(struct bench_json *j);
/*
 * @st as "@name" (the median), "@name_min", "@name_max" and, with enough
 * samples, "@name_p10" and "@name_p90".
 */
void bench_json_stats(struct bench_json *j, const char *name,
		      const struct bench_stats *st);
/*
 * @st as the CSV fields "median,min,max,p10,p90,", the percentiles empty
 * without enough samples.
 */
void bench_csv_stats(FILE *f, const struct bench_stats *st);

/*
 * Options every command shares, spelled as perftest spells them:
 * -V/--version, --out_json (write the JSON report) and --out_json_file=FILE
 * (its name; it implies --out_json here, where perftest needs both). The
 * commands' own long-only options take values from BENCH_OPT_FIRST on.
 */
enum {
	BENCH_OPT_OUT_JSON = 0x100,
	BENCH_OPT_OUT_JSON_FILE,
	BENCH_OPT_OUT_CSV,
	BENCH_OPT_FIRST,
};
#define BENCH_COMMON_LONGOPTS						\
	{ "out_json", no_argument, NULL, BENCH_OPT_OUT_JSON },		\
	{ "out_json_file", required_argument, NULL, BENCH_OPT_OUT_JSON_FILE }, \
	{ "out_csv", required_argument, NULL, BENCH_OPT_OUT_CSV },	\
	{ "version", no_argument, NULL, 'V' },				\
	{ "help", no_argument, NULL, 'h' }
/* The short options of BENCH_COMMON_LONGOPTS, for getopt_long()'s string. */
#define BENCH_COMMON_SHORTOPTS "Vh"
/* --out_json without --out_json_file writes here, in the working directory. */
#define BENCH_DEFAULT_JSON "pal_bench_out.json"
/* The usage lines of the shared options. */
#define BENCH_COMMON_USAGE						\
	"      --out_json          write the JSON report (to " BENCH_DEFAULT_JSON ")\n" \
	"      --out_json_file=F   write it to F (implies --out_json)\n"	\
	"  -V, --version           print pal_bench's version and exit\n"

struct bench_report_opts {
	const char *json;	/* JSON file, NULL for none */
	const char *csv;	/* CSV file, NULL for none */
};

/* "pal_bench (rdma-pal) VERSION" on the standard output, as -V prints it. */
void bench_print_version(void);

/*
 * Handle option c if it is a shared one (-V prints the version and exits);
 * false if it is not. --out_csv is only valid for commands that take it,
 * which say so with csv_ok.
 */
bool bench_common_opt(int c, const char *arg, bool csv_ok, struct bench_report_opts *r);

int bench_bw(int argc, char **argv);
int bench_reg(int argc, char **argv);
int bench_revoke(int argc, char **argv);
int bench_topo(int argc, char **argv);
int bench_import(int argc, char **argv);
int bench_refault(int argc, char **argv);

#endif
