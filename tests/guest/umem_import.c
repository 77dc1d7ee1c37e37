// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Import a dma-buf window as a DMA-capable RDMA driver would, through the
 * physical address list path and the sg_table path, with the series' test
 * device /dev/ib_umem_import_test, and compare what the two found.
 *
 *   umem_import --pci BDF --backend NAME [--size B] [--extent-size B]
 *               [--shuffle SEED] [--mode both|pal|sgt] [--offset B] [--length B]
 *               [--iova A] [--path both|pal|sgt] [--vfio BDF]
 *               [--expect ERRNO] [--expect-fallback] [--iommu]
 *               [--expect-pgsz BYTES]
 *
 * --path both (default) requires both imports to succeed with the same page
 * size and the same number of blocks, and the list path to need no more
 * extents than the sg_table path has entries. --expect ERRNO requires the
 * import(s) asked for to fail with it. --expect-fallback requires a list
 * import to fall back to the sg_table path (an exporter without lists).
 * --vfio names the vfio-pci device of the "vfio" backend (its BAR 2).
 * --expect-pgsz requires the list path to choose that HW page size.
 * --iommu: the device sits behind an IOMMU, so each path gets its own IOVA
 * layout and the page sizes may differ: the list path must then map the
 * window as one extent and need no more blocks than the sg_table path.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-buf-pal-test.h>
#include <rdma/ib_umem_import_test.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/mem.h>

static int import(int devfd, int fd, const char *pci, bool pal, uint64_t offset,
		  uint64_t length, uint64_t iova, struct ib_umem_import_test *out)
{
	*out = (struct ib_umem_import_test){
		.fd = fd, .flags = pal ? IB_UMEM_IMPORT_TEST_PAL : 0,
		.offset = offset, .length = length, .iova = iova,
	};
	snprintf(out->pci_dev, sizeof(out->pci_dev), "%s", pci);
	if (ioctl(devfd, IB_UMEM_IMPORT_TEST_IMPORT, out))
		return errno;
	printf("%s path: list %u, %u extent(s), page size %llu, %llu block(s), metadata %llu B, "
	       "import %llu ns, geometry %llu ns, release %llu ns\n",
	       pal ? "list" : "sg_table", out->pal, out->nr_extents,
	       (unsigned long long)out->pgsz, (unsigned long long)out->nr_blocks,
	       (unsigned long long)out->meta_bytes, (unsigned long long)out->ns_import,
	       (unsigned long long)out->ns_geometry, (unsigned long long)out->ns_release);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pci", required_argument, NULL, 'P' },
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "extent-size", required_argument, NULL, 'x' },
		{ "shuffle", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "iova", required_argument, NULL, 'i' },
		{ "path", required_argument, NULL, 'p' },
		{ "expect", required_argument, NULL, 'e' },
		{ "expect-fallback", no_argument, NULL, 'F' },
		{ "vfio", required_argument, NULL, 'v' },
		{ "iommu", no_argument, NULL, 'I' },
		{ "expect-pgsz", required_argument, NULL, 'g' },
		{ 0 }
	};
	struct pal_mem_params params = { .size = 1 << 20 };
	const char *pci = NULL, *backend = "testexp", *path = "both", *expect = "0";
	struct ib_umem_import_test pal_res, sgt_res;
	uint64_t offset = 0, length = 0, iova = 0, want_pgsz = 0;
	int c, devfd, want, got, rc = 1;
	bool do_pal, do_sgt, fallback = false, iommu = false;
	struct pal_mem mem;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'P': pci = optarg; break;
		case 'b': backend = optarg; break;
		case 's': params.size = strtoull(optarg, NULL, 0); break;
		case 'x': params.extent_size = strtoull(optarg, NULL, 0); break;
		case 'r': params.shuffle = true; params.seed = strtoull(optarg, NULL, 0); break;
		case 'm':
			params.mode = !strcmp(optarg, "pal") ? DMA_BUF_PAL_TEST_MODE_PAL :
				      !strcmp(optarg, "sgt") ? DMA_BUF_PAL_TEST_MODE_SGT :
							       DMA_BUF_PAL_TEST_MODE_BOTH;
			break;
		case 'o': offset = strtoull(optarg, NULL, 0); break;
		case 'l': length = strtoull(optarg, NULL, 0); break;
		case 'i': iova = strtoull(optarg, NULL, 0); break;
		case 'p': path = optarg; break;
		case 'e': expect = optarg; break;
		case 'F': fallback = true; break;
		case 'I': iommu = true; break;
		case 'g': want_pgsz = strtoull(optarg, NULL, 0); break;
		case 'v': params.pci_device = optarg; params.bar = 2; break;
		default: return 2;
		}
	}
	want = pal_errno_parse(expect);
	if (!pci || want < 0 || !pal_mem_backend(backend)) {
		fprintf(stderr, "usage: %s --pci BDF --backend NAME [options]\n", argv[0]);
		return 2;
	}
	do_pal = strcmp(path, "sgt");
	do_sgt = strcmp(path, "pal");
	if (pal_mem_alloc(&mem, pal_mem_backend(backend), &params)) {
		fprintf(stderr, "%s\n", mem.err);
		return 1;
	}
	if (!length)
		length = mem.size - offset;
	devfd = open("/dev/ib_umem_import_test", O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		perror("open /dev/ib_umem_import_test");
		goto out;
	}
	if (do_pal) {
		got = import(devfd, mem.dmabuf_fd, pci, true, offset, length, iova, &pal_res);
		if (got != want) {
			fprintf(stderr, "list path: %s, expected %s\n", pal_errno_name(got), expect);
			goto out;
		}
	}
	if (do_sgt) {
		got = import(devfd, mem.dmabuf_fd, pci, false, offset, length, iova, &sgt_res);
		if (got != want) {
			fprintf(stderr, "sg_table path: %s, expected %s\n", pal_errno_name(got), expect);
			goto out;
		}
	}
	if (want) {
		printf("import failed with %s as expected\n", expect);
		rc = 0;
		goto out;
	}
	if (do_pal && pal_res.pal == fallback) {
		fprintf(stderr, fallback ? "a list import of an exporter without lists took a list\n" :
					   "the list path was not taken\n");
		goto out;
	}
	if (do_sgt && sgt_res.pal) {
		fprintf(stderr, "the sg_table path took a list\n");
		goto out;
	}
	if (do_pal && want_pgsz && pal_res.pgsz != want_pgsz) {
		fprintf(stderr, "list path chose %llu-byte pages, expected %llu\n",
			(unsigned long long)pal_res.pgsz, (unsigned long long)want_pgsz);
		goto out;
	}
	if (do_pal && do_sgt && iommu) {
		if (pal_res.nr_extents != 1 || pal_res.nr_blocks > sgt_res.nr_blocks) {
			fprintf(stderr, "behind an IOMMU the list path should be one extent and "
				"no more blocks than the sg_table path\n");
			goto out;
		}
		printf("list path: one IOVA extent, %llu block(s) of %llu B; sg_table path: %llu of %llu B\n",
		       (unsigned long long)pal_res.nr_blocks, (unsigned long long)pal_res.pgsz,
		       (unsigned long long)sgt_res.nr_blocks, (unsigned long long)sgt_res.pgsz);
	} else if (do_pal && do_sgt) {
		if (pal_res.pgsz != sgt_res.pgsz || pal_res.nr_blocks != sgt_res.nr_blocks) {
			fprintf(stderr, "paths disagree: page size %llu vs %llu, blocks %llu vs %llu\n",
				(unsigned long long)pal_res.pgsz, (unsigned long long)sgt_res.pgsz,
				(unsigned long long)pal_res.nr_blocks,
				(unsigned long long)sgt_res.nr_blocks);
			goto out;
		}
		if (pal_res.nr_extents > sgt_res.nr_extents) {
			fprintf(stderr, "the list path has more extents (%u) than the table (%u)\n",
				pal_res.nr_extents, sgt_res.nr_extents);
			goto out;
		}
		printf("both paths: page size %llu, %llu block(s)\n",
		       (unsigned long long)pal_res.pgsz, (unsigned long long)pal_res.nr_blocks);
	}
	rc = 0;
out:
	if (devfd >= 0)
		close(devfd);
	pal_mem_free(&mem);
	return rc;
}
