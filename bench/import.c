// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pal_bench import: what a DMA-capable RDMA driver pays to import a dma-buf
 * MR through the physical address list path and through the sg_table path,
 * on the same memory, measured in the kernel by /dev/ib_umem_import_test
 * (the series' test device) for the DMA of a real PCI device.
 *
 * For each size and extent size one test exporter buffer is made; each
 * repetition imports it once per path. Reported per point and path: median
 * times of import (attach, pin, map, trim), geometry (page size, block
 * walk) and release; the extents, page size, blocks and metadata bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <rdma/ib_umem_import_test.h>

#include "bench.h"

#define MAX_EXTENTS 8

struct import_opts {
	char pci[32];
	uint64_t min_size, max_size;
	uint64_t extents[MAX_EXTENTS];
	size_t nr_extents;
	unsigned int reps;
	const char *json;
	const char *csv;
};

static void import_usage(void)
{
	fprintf(stderr,
		"usage: pal_bench import [options]\n"
		"  -P, --pci BDF         PCI device to DMA-map for (default: the virtio-rng\n"
		"                        function of the guest)\n"
		"  -s, --min-size BYTES  smallest MR (default 64K)\n"
		"  -S, --max-size BYTES  largest MR, powers of 4 in between (default 256M)\n"
		"  -e, --extent BYTES    test exporter extent size, repeatable\n"
		"                        (default 4K 64K 2M)\n"
		"  -r, --reps N          repetitions per point (default 5)\n"
		"  -j, --out_json FILE   rows as JSON\n"
		"  -c, --out_csv FILE    rows as CSV\n");
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
		{ "pci", required_argument, NULL, 'P' },
		{ "min-size", required_argument, NULL, 's' },
		{ "max-size", required_argument, NULL, 'S' },
		{ "extent", required_argument, NULL, 'e' },
		{ "reps", required_argument, NULL, 'r' },
		{ "out_json", required_argument, NULL, 'j' },
		{ "out_csv", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	*o = (struct import_opts){ .min_size = 64 << 10, .max_size = 256 << 20, .reps = 5 };
	while ((c = getopt_long(argc, argv, "P:s:S:e:r:j:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'P': snprintf(o->pci, sizeof(o->pci), "%s", optarg); break;
		case 's': o->min_size = bench_parse_size(optarg); break;
		case 'S': o->max_size = bench_parse_size(optarg); break;
		case 'e':
			if (o->nr_extents == MAX_EXTENTS)
				return import_usage(), -1;
			o->extents[o->nr_extents++] = bench_parse_size(optarg);
			break;
		case 'r': o->reps = strtoul(optarg, NULL, 0); break;
		case 'j': o->json = optarg; break;
		case 'c': o->csv = optarg; break;
		default: import_usage(); return -1;
		}
	}
	if (!o->nr_extents) {
		o->extents[o->nr_extents++] = 4 << 10;
		o->extents[o->nr_extents++] = 64 << 10;
		o->extents[o->nr_extents++] = 2 << 20;
	}
	if (!o->pci[0] && find_default_pci(o->pci, sizeof(o->pci))) {
		fprintf(stderr, "import: no virtio-rng PCI function; give --pci\n");
		return -1;
	}
	if (!o->min_size || o->max_size < o->min_size || !o->reps) {
		import_usage();
		return -1;
	}
	return 0;
}

struct import_point {
	struct ib_umem_import_test last;
	double ns_import, ns_geometry, ns_release;	/* medians */
};

static int import_measure(int devfd, int fd, const struct import_opts *o, uint64_t size,
			  bool pal, struct import_point *pt)
{
	double imp[o->reps], geo[o->reps], rel[o->reps];

	for (unsigned int i = 0; i < o->reps; i++) {
		struct ib_umem_import_test *a = &pt->last;

		*a = (struct ib_umem_import_test){
			.fd = fd, .flags = pal ? IB_UMEM_IMPORT_TEST_PAL : 0, .length = size,
		};
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
		imp[i] = (double)a->ns_import;
		geo[i] = (double)a->ns_geometry;
		rel[i] = (double)a->ns_release;
	}
	pt->ns_import = bench_quantile(imp, o->reps, 0.5);
	pt->ns_geometry = bench_quantile(geo, o->reps, 0.5);
	pt->ns_release = bench_quantile(rel, o->reps, 0.5);
	return 0;
}

static void import_json_row(FILE *f, uint64_t size, uint64_t extent,
			    const char *path, const struct import_point *pt)
{
	struct bench_json j;

	bench_json_open(&j, f);
	bench_json_u64(&j, "size", size);
	bench_json_u64(&j, "extent_size", extent);
	bench_json_str(&j, "path", path);
	bench_json_dbl(&j, "import_us", pt->ns_import / 1e3);
	bench_json_dbl(&j, "geometry_us", pt->ns_geometry / 1e3);
	bench_json_dbl(&j, "release_us", pt->ns_release / 1e3);
	bench_json_u64(&j, "extents", pt->last.nr_extents);
	bench_json_u64(&j, "page_size", pt->last.pgsz);
	bench_json_u64(&j, "blocks", pt->last.nr_blocks);
	bench_json_u64(&j, "meta_bytes", pt->last.meta_bytes);
	bench_json_close(&j);
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
	if (bench_out_open(&out, o.json, o.csv,
			   "size,extent_size,path,import_us,geometry_us,release_us,extents,"
			   "page_size,blocks,meta_bytes\n"))
		goto out;
	for (size_t e = 0; e < o.nr_extents; e++)
		for (uint64_t s = o.min_size; s <= o.max_size; s *= 4)
			total += s >= o.extents[e];
	printf(" DMA device %s\n %10s %8s %9s %12s %12s %9s %10s\n", o.pci, "bytes", "extent",
	       "path", "import[us]", "geometry[us]", "extents", "meta[B]");
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
			if (import_measure(devfd, mem.dmabuf_fd, &o, mem.size, true, &pt[0]) ||
			    import_measure(devfd, mem.dmabuf_fd, &o, mem.size, false, &pt[1])) {
				pal_mem_free(&mem);
				goto out;
			}
			pal_mem_free(&mem);
			for (int p = 0; p < 2; p++) {
				const char *path = p ? "sgt" : "pal";
				FILE *json;

				printf(" %10llu %8llu %9s %12.1f %12.1f %9u %10llu\n",
				       (unsigned long long)s, (unsigned long long)o.extents[e],
				       path, pt[p].ns_import / 1e3, pt[p].ns_geometry / 1e3,
				       pt[p].last.nr_extents,
				       (unsigned long long)pt[p].last.meta_bytes);
				json = bench_out_json_row(&out);
				if (json)
					import_json_row(json, s, o.extents[e], path, &pt[p]);
				if (out.csv)
					fprintf(out.csv, "%llu,%llu,%s,%.3f,%.3f,%.3f,%u,%llu,%llu,%llu\n",
						(unsigned long long)s,
						(unsigned long long)o.extents[e], path,
						pt[p].ns_import / 1e3, pt[p].ns_geometry / 1e3,
						pt[p].ns_release / 1e3, pt[p].last.nr_extents,
						(unsigned long long)pt[p].last.pgsz,
						(unsigned long long)pt[p].last.nr_blocks,
						(unsigned long long)pt[p].last.meta_bytes);
			}
		}
	}
	fputc('\n', stderr);
	rc = 0;
out:
	bench_out_close(&out);
	close(devfd);
	return rc;
}
