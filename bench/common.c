// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Helpers shared by the pal_bench subcommands. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rdma_pal/restrack.h>

#include "bench.h"

void bench_print_version(void)
{
	printf("pal_bench (rdma-pal) %s\n", RDMA_PAL_VERSION);
}

bool bench_common_opt(int c, const char *arg, bool csv_ok, struct bench_report_opts *r)
{
	switch (c) {
	case 'V':
		bench_print_version();
		exit(0);
	case BENCH_OPT_OUT_JSON:
		if (!r->json)
			r->json = BENCH_DEFAULT_JSON;
		return true;
	case BENCH_OPT_OUT_JSON_FILE:
		r->json = arg;
		return true;
	case BENCH_OPT_OUT_CSV:
		if (!csv_ok)
			return false;
		r->csv = arg;
		return true;
	}
	return false;
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_quantile(double *v, size_t n, double q)
{
	double h;
	size_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	/* Between the two nearest ranks: a median of 2 is their mean. */
	h = q * (double)(n - 1);
	i = (size_t)h;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

void bench_stats(double *v, size_t n, struct bench_stats *st)
{
	*st = (struct bench_stats){ 0 };
	if (!n)
		return;
	st->median = bench_quantile(v, n, 0.5);	/* sorts v */
	st->min = v[0];
	st->max = v[n - 1];
	st->has_pctl = n >= BENCH_PCTL_MIN_SAMPLES;
	if (st->has_pctl) {
		st->p10 = bench_quantile(v, n, 0.1);
		st->p90 = bench_quantile(v, n, 0.9);
	}
}

uint64_t bench_parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	return *end ? 0 : v;
}

int bench_parse_memory(const char *spec, const struct pal_mem_ops **ops,
		       struct pal_mem_params *params)
{
	char name[64], *colon;

	snprintf(name, sizeof(name), "%s", spec);
	colon = strchr(name, ':');
	if (colon) {
		char *seed = strchr(colon + 1, ':');

		*colon = '\0';
		if (seed) {
			*seed = '\0';
			params->shuffle = true;
			params->seed = strtoull(seed + 1, NULL, 0);
		}
		params->extent_size = bench_parse_size(colon + 1);
		if (!params->extent_size)
			return -1;
	}
	*ops = pal_mem_backend(name);
	return *ops ? 0 : -1;
}

struct ibv_context *bench_open_device(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;

	for (int i = 0; list && list[i]; i++)
		if (!name || !strcmp(ibv_get_device_name(list[i]), name)) {
			ctx = ibv_open_device(list[i]);
			break;
		}
	if (list)
		ibv_free_device_list(list);
	if (!ctx)
		fprintf(stderr, "cannot open RDMA device %s\n", name ? name : "(any)");
	return ctx;
}

void bench_json_open(struct bench_json *j, FILE *f)
{
	j->f = f;
	j->first = true;
	fputc('{', f);
}

static void json_key(struct bench_json *j, const char *key)
{
	fprintf(j->f, "%s\"%s\": ", j->first ? "" : ", ", key);
	j->first = false;
}

void bench_json_str(struct bench_json *j, const char *key, const char *val)
{
	json_key(j, key);
	fputc('"', j->f);
	for (; *val; val++) {
		if (*val == '"' || *val == '\\')
			fputc('\\', j->f);
		fputc(*val, j->f);
	}
	fputc('"', j->f);
}

void bench_json_u64(struct bench_json *j, const char *key, uint64_t val)
{
	json_key(j, key);
	fprintf(j->f, "%llu", (unsigned long long)val);
}

void bench_json_dbl(struct bench_json *j, const char *key, double val)
{
	json_key(j, key);
	fprintf(j->f, "%.6g", val);
}

void bench_json_stats(struct bench_json *j, const char *name,
		      const struct bench_stats *st)
{
	static const char *const suffix[] = { "_min", "_max", "_p10", "_p90" };
	const double val[] = { st->min, st->max, st->p10, st->p90 };
	char key[64];

	bench_json_dbl(j, name, st->median);
	for (size_t i = 0; i < (st->has_pctl ? 4 : 2); i++) {
		snprintf(key, sizeof(key), "%s%s", name, suffix[i]);
		bench_json_dbl(j, key, val[i]);
	}
}

void bench_csv_stats(FILE *f, const struct bench_stats *st)
{
	fprintf(f, "%.3f,%.3f,%.3f,", st->median, st->min, st->max);
	if (st->has_pctl)
		fprintf(f, "%.3f,%.3f,", st->p10, st->p90);
	else
		fputs(",,", f);
}

void bench_json_close(struct bench_json *j)
{
	fputs("}", j->f);
}

int bench_out_open(struct bench_out *out, const char *json_path,
		   const char *csv_path, const char *csv_header)
{
	*out = (struct bench_out){ 0 };
	if (json_path && !(out->json = fopen(json_path, "w"))) {
		perror(json_path);
		return -1;
	}
	if (csv_path && !(out->csv = fopen(csv_path, "w"))) {
		perror(csv_path);
		bench_out_close(out);
		return -1;
	}
	if (out->csv)
		fputs(csv_header, out->csv);
	return 0;
}

FILE *bench_out_json_row(struct bench_out *out)
{
	if (!out->json)
		return NULL;
	fputs(out->rows++ ? ",\n  " : "[\n  ", out->json);
	return out->json;
}

void bench_out_close(struct bench_out *out)
{
	if (out->json) {
		fputs(out->rows ? "\n]\n" : "[]\n", out->json);
		fclose(out->json);
	}
	if (out->csv)
		fclose(out->csv);
	*out = (struct bench_out){ 0 };
}

struct ibv_pd *bench_alloc_pd(const char *name)
{
	struct ibv_context *ctx = bench_open_device(name);
	struct ibv_pd *pd;

	if (!ctx)
		return NULL;
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		perror("ibv_alloc_pd");
		ibv_close_device(ctx);
	}
	return pd;
}

void bench_free_pd(struct ibv_pd *pd)
{
	struct ibv_context *ctx = pd->context;

	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
}

int bench_mr_bytes(const char *dev, struct bench_mr_bytes *b)
{
	struct pal_restrack_mr *mrs;
	size_t nr;

	*b = (struct bench_mr_bytes){ 0 };
	mrs = pal_restrack_mrs(dev, &nr);
	if (!mrs)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		if (mrs[i].bytes < 0)
			continue;
		b->nr_mrs++;
		b->mr_bytes += mrs[i].bytes;
		if (mrs[i].list_bytes > (int64_t)b->list_bytes)
			b->list_bytes = mrs[i].list_bytes;
	}
	free(mrs);
	return b->nr_mrs ? 0 : -1;
}
