// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pal_bench import: what a DMA-capable RDMA driver pays to import a dma-buf
 * MR through the physical address list path and through the sg_table path,
 * on the same memory, measured in the kernel by /dev/ib_umem_import_test
 * (the series' test device) for the DMA of a real PCI device.
 *
 * For each size and extent size one test exporter buffer is made, and
 * imported in each driver import mode asked for: pinned and revocable
 * (irdma), pinned (efa, bnxt_re, mana, ionic), dynamic (mlx5). Each
 * repetition imports it once per path, the two paths taking turns to go
 * first. Reported per point, mode and path: median times of import
 * (attach, pin, map, trim), geometry (page size, block walk) and release;
 * the extents, page size, blocks and metadata bytes. Each path is imported
 * once, untimed, before the timed repetitions. For the dynamic mode
 * also the median times to unmap when the exporter moves the buffer (the
 * importer's invalidate_mappings) and to map again at the next use (one
 * held import, moved and used once per repetition).
 *
 * With --window W each import is the buffer's last W bytes rather than the
 * whole buffer: against the buffer's size, a path whose cost follows the
 * MR stays flat, one that handles the whole buffer per MR grows.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <umem_import_test_uapi.h>

#include <rdma_pal/testexp.h>

#include "bench.h"

#define MAX_EXTENTS 8

/* The driver import modes, as the test device names them. */
static const struct import_mode {
	const char *name;
	uint32_t flags;
} import_modes[] = {
	{ "revocable", 0 },
	{ "pinned", IB_UMEM_IMPORT_TEST_PINNED },
	{ "dynamic", IB_UMEM_IMPORT_TEST_DYNAMIC },
};

#define NR_MODES (sizeof(import_modes) / sizeof(import_modes[0]))

struct import_opts {
	char pci[32];
	unsigned int modes;	/* bit i: import_modes[i] */
	uint64_t min_size, max_size;
	uint64_t window;	/* 0: import the whole buffer */
	uint64_t extents[MAX_EXTENTS];
	size_t nr_extents;
	unsigned int reps;
	struct bench_report_opts report;
};

enum { OPT_PCI = BENCH_OPT_FIRST, OPT_MIN_SIZE, OPT_MAX_SIZE, OPT_EXTENT, OPT_IMPORT_MODE,
       OPT_WINDOW };

static void import_usage(void)
{
	fprintf(stderr,
		"usage: pal_bench import [options]\n"
		"      --pci BDF           PCI device to DMA-map for (default: the virtio-rng\n"
		"                          function of the guest)\n"
		"  -s, --size BYTES        one MR size only\n"
		"      --min-size BYTES    smallest MR (default 64K)\n"
		"      --max-size BYTES    largest MR, powers of 4 in between (default 256M)\n"
		"      --window BYTES      import the buffer's last BYTES, not all of it\n"
		"      --extent BYTES      test exporter extent size, repeatable\n"
		"                          (default 4K 64K 2M)\n"
		"  -n, --iters N           repetitions per point (default 5)\n"
		"      --import-mode M     revocable, pinned or dynamic, repeatable\n"
		"                          (default: all three)\n"
		BENCH_COMMON_USAGE
		"      --out_csv=F         the rows as CSV in F\n");
}

/* The guest's virtio-rng PCI function: a device with DMA that is idle. */
static int find_default_pci(char *bdf, size_t len)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	int ret = -1;

	while (dir && (de = readdir(dir))) {
		char path[512], id[16] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(id, sizeof(id), f) && !strncmp(id, "0x1005", 6) &&
		    strlen(de->d_name) < len) {
			memcpy(bdf, de->d_name, strlen(de->d_name) + 1);
			ret = 0;
		}
		fclose(f);
	}
	if (dir)
		closedir(dir);
	return ret;
}

static int import_parse(int argc, char **argv, struct import_opts *o)
{
	static const struct option longopts[] = {
		{ "pci", required_argument, NULL, OPT_PCI },
		{ "size", required_argument, NULL, 's' },
		{ "min-size", required_argument, NULL, OPT_MIN_SIZE },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "extent", required_argument, NULL, OPT_EXTENT },
		{ "iters", required_argument, NULL, 'n' },
		{ "import-mode", required_argument, NULL, OPT_IMPORT_MODE },
		{ "window", required_argument, NULL, OPT_WINDOW },
		BENCH_COMMON_LONGOPTS,
		{ 0 }
	};
	unsigned int m;
	int c;

	*o = (struct import_opts){ .min_size = 64 << 10, .max_size = 256 << 20, .reps = 5 };
	while ((c = getopt_long(argc, argv, "s:n:" BENCH_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (bench_common_opt(c, optarg, true, &o->report))
			continue;
		switch (c) {
		case OPT_PCI: snprintf(o->pci, sizeof(o->pci), "%s", optarg); break;
		case 's': o->min_size = o->max_size = bench_parse_size(optarg); break;
		case OPT_MIN_SIZE: o->min_size = bench_parse_size(optarg); break;
		case OPT_MAX_SIZE: o->max_size = bench_parse_size(optarg); break;
		case OPT_EXTENT:
			if (o->nr_extents == MAX_EXTENTS)
				return import_usage(), -1;
			o->extents[o->nr_extents++] = bench_parse_size(optarg);
			break;
		case 'n': o->reps = strtoul(optarg, NULL, 0); break;
		case OPT_WINDOW:
			o->window = bench_parse_size(optarg);
			if (!o->window)
				return import_usage(), -1;
			break;
		case OPT_IMPORT_MODE:
			for (m = 0; m < NR_MODES && strcmp(optarg, import_modes[m].name); m++)
				;
			if (m == NR_MODES)
				return import_usage(), -1;
			o->modes |= 1U << m;
			break;
		default: import_usage(); return -1;
		}
	}
	if (!o->modes)
		o->modes = (1U << NR_MODES) - 1;
	if (!o->nr_extents) {
		o->extents[o->nr_extents++] = 4 << 10;
		o->extents[o->nr_extents++] = 64 << 10;
		o->extents[o->nr_extents++] = 2 << 20;
	}
	if (!o->pci[0] && find_default_pci(o->pci, sizeof(o->pci))) {
		fprintf(stderr, "import: no virtio-rng PCI function; give --pci\n");
		return -1;
	}
	if (!o->min_size || o->max_size < o->min_size || !o->reps ||
	    (o->window && (o->window % 4096 || o->window > o->min_size))) {
		import_usage();
		return -1;
	}
	return 0;
}

struct import_point {
	struct ib_umem_import_test last;
	double ns_import, ns_geometry, ns_release;	/* medians */
	double ns_remap;	/* dynamic mode: median map again after a move */
	double ns_invalidate;	/* dynamic mode: median unmap when it moved */
};

/* The MR: the whole buffer, or its last o->window bytes. */
static int import_once(int devfd, int fd, const struct import_opts *o, uint64_t size,
		       uint32_t flags, struct ib_umem_import_test *a)
{
	bool pal = flags & IB_UMEM_IMPORT_TEST_PAL;
	uint64_t length = o->window ? o->window : size;

	*a = (struct ib_umem_import_test){ .fd = fd, .flags = flags,
					   .offset = size - length, .length = length,
					   .iova = size - length };
	memcpy(a->pci_dev, o->pci, sizeof(a->pci_dev));
	if (ioctl(devfd, IB_UMEM_IMPORT_TEST_IMPORT, a)) {
		fprintf(stderr, "import: %s path, %llu bytes: %s\n", pal ? "list" : "sg_table",
			(unsigned long long)size, strerror(errno));
		return -1;
	}
	if (a->pal != pal) {
		fprintf(stderr, "import: asked for the %s path, got the other\n",
			pal ? "list" : "sg_table");
		return -1;
	}
	return 0;
}

/* Both paths, reps times each, taking turns to go first. */
static int import_measure(int devfd, int fd, const struct import_opts *o, uint64_t size,
			  uint32_t mode_flags, struct import_point pt[2])
{
	double imp[2][o->reps], geo[2][o->reps], rel[2][o->reps];

	/*
	 * One untimed import of each path first: neither is timed cold, and
	 * an exporter that builds its list once per buffer has built it.
	 */
	for (unsigned int p = 0; p < 2; p++)
		if (import_once(devfd, fd, o, size,
				mode_flags | (p ? 0 : IB_UMEM_IMPORT_TEST_PAL), &pt[p].last))
			return -1;
	for (unsigned int i = 0; i < o->reps; i++) {
		for (unsigned int k = 0; k < 2; k++) {
			unsigned int p = (i + k) % 2;	/* 0: list, 1: sg_table */
			struct ib_umem_import_test *a = &pt[p].last;

			if (import_once(devfd, fd, o, size,
					mode_flags | (p ? 0 : IB_UMEM_IMPORT_TEST_PAL), a))
				return -1;
			imp[p][i] = (double)a->ns_import;
			geo[p][i] = (double)a->ns_geometry;
			rel[p][i] = (double)a->ns_release;
		}
	}
	for (unsigned int p = 0; p < 2; p++) {
		pt[p].ns_import = bench_quantile(imp[p], o->reps, 0.5);
		pt[p].ns_geometry = bench_quantile(geo[p], o->reps, 0.5);
		pt[p].ns_release = bench_quantile(rel[p], o->reps, 0.5);
		pt[p].ns_remap = 0;
		pt[p].ns_invalidate = 0;
	}
	return 0;
}

/*
 * Dynamic mode: hold one import per path; per repetition the exporter moves
 * the buffer (invalidating it) and the import is used, which maps it again.
 */
static int import_measure_remap(int fd, const struct import_opts *o, uint64_t size,
				struct import_point pt[2])
{
	double remap[o->reps], inval[o->reps];

	for (unsigned int p = 0; p < 2; p++) {
		struct ib_umem_import_test a;
		int devfd = open("/dev/ib_umem_import_test", O_RDWR | O_CLOEXEC);
		uint32_t live = 0;

		if (devfd < 0 ||
		    import_once(devfd, fd, o, size, IB_UMEM_IMPORT_TEST_DYNAMIC |
				IB_UMEM_IMPORT_TEST_HOLD | (p ? 0 : IB_UMEM_IMPORT_TEST_PAL), &a))
			goto fail;
		for (unsigned int i = 0; i < o->reps; i++) {
			if (pal_testexp_move(fd, &live) || live) {
				fprintf(stderr, "import: move: %s, %u live\n", strerror(errno), live);
				goto fail;
			}
			a = (struct ib_umem_import_test){ 0 };
			if (ioctl(devfd, IB_UMEM_IMPORT_TEST_USE, &a) || a.maps != i + 2) {
				fprintf(stderr, "import: use after a move: %s, %u maps\n",
					strerror(errno), a.maps);
				goto fail;
			}
			remap[i] = (double)a.ns_import;
			inval[i] = (double)a.ns_invalidate;
		}
		pt[p].ns_remap = bench_quantile(remap, o->reps, 0.5);
		pt[p].ns_invalidate = bench_quantile(inval, o->reps, 0.5);
		close(devfd);
		continue;
fail:
		if (devfd >= 0)
			close(devfd);
		return -1;
	}
	return 0;
}

static void import_json_row(FILE *f, uint64_t size, uint64_t window, uint64_t extent,
			    const char *mode, const char *path, const struct import_point *pt)
{
	struct bench_json j;

	bench_json_open(&j, f);
	bench_json_u64(&j, "size", size);
	bench_json_u64(&j, "window", window ? window : size);
	bench_json_u64(&j, "extent_size", extent);
	bench_json_str(&j, "mode", mode);
	bench_json_str(&j, "path", path);
	bench_json_dbl(&j, "import_us", pt->ns_import / 1e3);
	bench_json_dbl(&j, "geometry_us", pt->ns_geometry / 1e3);
	bench_json_dbl(&j, "release_us", pt->ns_release / 1e3);
	bench_json_u64(&j, "extents", pt->last.nr_extents);
	bench_json_u64(&j, "page_size", pt->last.pgsz);
	bench_json_u64(&j, "blocks", pt->last.nr_blocks);
	bench_json_u64(&j, "meta_bytes", pt->last.meta_bytes);
	/* The part of meta_bytes that is the exporter's (shareable) list. */
	bench_json_u64(&j, "list_bytes", pt->last.list_bytes);
	if (pt->ns_remap > 0) {
		bench_json_dbl(&j, "remap_us", pt->ns_remap / 1e3);
		bench_json_dbl(&j, "invalidate_us", pt->ns_invalidate / 1e3);
	}
	bench_json_close(&j);
}

static void import_rows(struct bench_out *out, uint64_t s, uint64_t window, uint64_t extent,
			const char *mode, const struct import_point pt[2])
{
	for (int p = 0; p < 2; p++) {
		const char *path = p ? "sgt" : "pal";
		FILE *json;

		printf(" %10llu %8llu %9s %9s %12.1f %12.1f %9u %10llu %10.1f %10.1f\n",
		       (unsigned long long)s, (unsigned long long)extent, mode, path,
		       pt[p].ns_import / 1e3, pt[p].ns_geometry / 1e3, pt[p].last.nr_extents,
		       (unsigned long long)pt[p].last.meta_bytes, pt[p].ns_invalidate / 1e3,
		       pt[p].ns_remap / 1e3);
		json = bench_out_json_row(out);
		if (json)
			import_json_row(json, s, window, extent, mode, path, &pt[p]);
		if (out->csv) {
			fprintf(out->csv, "%llu,%llu,%llu,%s,%s,%.3f,%.3f,%.3f,%u,%llu,%llu,%llu,",
				(unsigned long long)s, (unsigned long long)(window ? window : s),
				(unsigned long long)extent, mode, path,
				pt[p].ns_import / 1e3, pt[p].ns_geometry / 1e3,
				pt[p].ns_release / 1e3, pt[p].last.nr_extents,
				(unsigned long long)pt[p].last.pgsz,
				(unsigned long long)pt[p].last.nr_blocks,
				(unsigned long long)pt[p].last.meta_bytes);
			if (pt[p].ns_remap > 0)
				fprintf(out->csv, "%.3f,%.3f", pt[p].ns_remap / 1e3,
					pt[p].ns_invalidate / 1e3);
			else
				fputc(',', out->csv);
			fputc('\n', out->csv);
		}
	}
}

int bench_import(int argc, char **argv)
{
	struct import_opts o;
	struct bench_out out;
	size_t n = 0, total = 0;
	int devfd, rc = 1;

	if (import_parse(argc, argv, &o))
		return 2;
	devfd = open("/dev/ib_umem_import_test", O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		perror("import: /dev/ib_umem_import_test");
		return 1;
	}
	if (bench_out_open(&out, o.report.json, o.report.csv,
			   "size,window,extent_size,mode,path,import_us,geometry_us,release_us,extents,"
			   "page_size,blocks,meta_bytes,remap_us,invalidate_us\n"))
		goto out;
	for (size_t e = 0; e < o.nr_extents; e++)
		for (uint64_t s = o.min_size; s <= o.max_size; s *= 4)
			total += s >= o.extents[e];
	printf(" DMA device %s\n %10s %8s %9s %9s %12s %12s %9s %10s %10s %10s\n", o.pci,
	       "bytes", "extent", "mode", "path", "import[us]", "geometry[us]", "extents",
	       "meta[B]", "inval[us]", "remap[us]");
	for (size_t e = 0; e < o.nr_extents; e++) {
		for (uint64_t s = o.min_size; s <= o.max_size; s *= 4) {
			struct pal_mem_params params = { .size = s, .extent_size = o.extents[e],
							 .shuffle = true, .seed = s };
			struct import_point pt[2];
			struct pal_mem mem;

			if (s < o.extents[e])
				continue;
			fprintf(stderr, "\rimport: %zu/%zu   ", ++n, total);
			if (pal_mem_alloc(&mem, &pal_mem_testexp_ops, &params)) {
				fprintf(stderr, "import: %s\n", mem.err);
				goto out;
			}
			for (unsigned int m = 0; m < NR_MODES; m++) {
				if (!(o.modes & (1U << m)))
					continue;
				if (import_measure(devfd, mem.dmabuf_fd, &o, mem.size,
						   import_modes[m].flags, pt) ||
				    ((import_modes[m].flags & IB_UMEM_IMPORT_TEST_DYNAMIC) &&
				     import_measure_remap(mem.dmabuf_fd, &o, mem.size, pt))) {
					pal_mem_free(&mem);
					goto out;
				}
				import_rows(&out, s, o.window, o.extents[e], import_modes[m].name, pt);
			}
			pal_mem_free(&mem);
		}
	}
	fputc('\n', stderr);
	rc = 0;
out:
	bench_out_close(&out);
	close(devfd);
	return rc;
}
