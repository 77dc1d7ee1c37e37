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

int bench_bw(int argc, char **argv);
int bench_reg(int argc, char **argv);
int bench_revoke(int argc, char **argv);
int bench_topo(int argc, char **argv);
int bench_import(int argc, char **argv);
int bench_refault(int argc, char **argv);

#endif
