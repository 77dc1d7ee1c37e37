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
 *               [--expect-pgsz BYTES] [--import-mode revocable|pinned|dynamic]
 *               [--scenario move-revoke] [--windows STEP]
 *
 * --path both (default) requires both imports to succeed with the same page
 * size and the same blocks at the same device addresses (without an IOMMU;
 * a digest of the block addresses the driver would program), and the list path to need no more
 * extents than the sg_table path has entries. --expect ERRNO requires the
 * import(s) asked for to fail with it. --expect-fallback requires a list
 * import to fall back to the sg_table path (an exporter without lists).
 * --vfio names the vfio-pci device of the "vfio" backend (its BAR 2).
 * --expect-pgsz requires the list path to choose that HW page size.
 * With the test exporter, no attachment, mapping or pin may be left after
 * the imports, whether they succeeded or not.
 * --import-mode picks the driver import mode: pinned and revocable (irdma,
 * the default), pinned (efa, bnxt_re, mana, ionic) or dynamic (mlx5).
 * --scenario move-revoke (test exporter, one path) holds the import, moves
 * the buffer, uses the import again, revokes the buffer and uses it once
 * more, and checks each step against what the mode promises: a dynamic
 * import is invalidated by the move and mapped again on its next use with
 * the same geometry (and, without an IOMMU, the new memory's addresses),
 * then fails with the exporter's ENODEV once revoked; a pinned import
 * keeps the buffer from moving (EBUSY); a revocable one is unmapped for
 * good by the revoke (no page size, no block); a plain pinned one cannot
 * be revoked and keeps its mapping, which the exporter reports.
 * --windows STEP (no IOMMU): instead of one window, import a set of windows
 * through both paths: the first and the last page of the buffer, pages on
 * either side of the boundaries at STEP (the exporter's range size, where
 * it has one) and in the middle of the buffer, a window starting inside a
 * page, and all but the first and last pages. Both paths must program the
 * same HW blocks at the same device addresses (block digest): the list
 * path finds a window by binary search over its ranges, the sg_table path
 * by walking the table, so this checks the one against the other.
 * --iommu: the device sits behind an IOMMU, so each path gets its own IOVA
 * layout and the page sizes may differ: the list path must then map the
 * window as one extent, with the largest device page no larger than the
 * window (rounded up to a power of two) at which offset and IOVA agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <dma-buf-pal-test-uapi.h>
#include <umem_import_test_uapi.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/mem.h>
#include <rdma_pal/testexp.h>

static void show(const char *what, const struct ib_umem_import_test *r)
{
	printf("%s: list %u, %u extent(s), page size %llu, %llu block(s), metadata %llu B, "
	       "maps %u, invalidations %u, revoked %u, import %llu ns, geometry %llu ns, "
	       "release %llu ns, blocks %#llx\n",
	       what, r->pal, r->nr_extents, (unsigned long long)r->pgsz,
	       (unsigned long long)r->nr_blocks, (unsigned long long)r->meta_bytes,
	       r->maps, r->invalidations, r->revoked, (unsigned long long)r->ns_import,
	       (unsigned long long)r->ns_geometry, (unsigned long long)r->ns_release,
	       (unsigned long long)r->block_digest);
}

static int import(int devfd, int fd, const char *pci, uint32_t flags, uint64_t offset,
		  uint64_t length, uint64_t iova, struct ib_umem_import_test *out)
{
	*out = (struct ib_umem_import_test){
		.fd = fd, .flags = flags,
		.offset = offset, .length = length, .iova = iova,
	};
	snprintf(out->pci_dev, sizeof(out->pci_dev), "%s", pci);
	if (ioctl(devfd, IB_UMEM_IMPORT_TEST_IMPORT, out))
		return errno;
	show(flags & IB_UMEM_IMPORT_TEST_PAL ? "list path" : "sg_table path", out);
	return 0;
}

/* USE the held import; 0 or the errno. */
static int use(int devfd, uint64_t iova, struct ib_umem_import_test *out)
{
	*out = (struct ib_umem_import_test){ .iova = iova };
	if (ioctl(devfd, IB_UMEM_IMPORT_TEST_USE, out))
		return errno;
	show("  use", out);
	return 0;
}

/*
 * The largest of the default HW page sizes (4 KiB, 2 MiB, 1 GiB) that the
 * list path's IOVA placement promises for a window: no larger than the
 * window rounded up to a power of two, and one at which the window's
 * buffer offset and its IOVA agree.
 */
static uint64_t usable_pgsz(uint64_t length, uint64_t offset, uint64_t iova)
{
	static const uint64_t sizes[] = { 1ULL << 30, 2ULL << 20, 4096 };
	uint64_t span = 4096;
	unsigned int i;

	while (span < length)
		span <<= 1;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (sizes[i] <= span && !((offset ^ iova) & (sizes[i] - 1)))
			return sizes[i];
	return 0;
}

static int scenario_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int scenario_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/*
 * Hold an import of the test exporter's buffer, move the buffer, use the
 * import, revoke the buffer, use it again: each mode keeps its promise.
 */
static int move_revoke(int devfd, struct pal_mem *mem, const char *pci, uint32_t flags,
		       uint64_t offset, uint64_t length, uint64_t iova, bool iommu)
{
	uint32_t mode = flags & (IB_UMEM_IMPORT_TEST_PINNED | IB_UMEM_IMPORT_TEST_DYNAMIC);
	struct ib_umem_import_test first, r;
	uint32_t live = 0;
	int err;

	err = import(devfd, mem->dmabuf_fd, pci, flags | IB_UMEM_IMPORT_TEST_HOLD, offset,
		     length, iova, &first);
	if (err)
		return scenario_fail("held import: %s", pal_errno_name(err));
	if (!first.pgsz || first.maps != 1)
		return scenario_fail("held import: no page size or not mapped once");

	err = pal_testexp_move(mem->dmabuf_fd, &live) ? errno : 0;
	printf("move: %s, %u mapping(s) live\n", pal_errno_name(err), live);
	if (mode == IB_UMEM_IMPORT_TEST_DYNAMIC) {
		if (err || live)
			return scenario_fail("a dynamic import must let the buffer move and drop its mapping");
		err = use(devfd, iova, &r);
		if (err)
			return scenario_fail("use after the move: %s", pal_errno_name(err));
		if (r.invalidations != 1 || r.maps != 2)
			return scenario_fail("expected one invalidation and a second map, got %u and %u",
					     r.invalidations, r.maps);
		if (r.pgsz != first.pgsz || r.nr_blocks != first.nr_blocks ||
		    r.pal != first.pal)
			return scenario_fail("the mapping again has another geometry or path");
		if (!iommu && r.dma_digest == first.dma_digest)
			return scenario_fail("the mapping again has the old memory's addresses");
	} else if (err != EBUSY) {
		return scenario_fail("a pinned import must keep the buffer from moving (EBUSY), got %s",
				     pal_errno_name(err));
	}

	if (pal_testexp_revoke(mem->dmabuf_fd, &live))
		return scenario_fail("revoke: %s", strerror(errno));
	printf("revoke: %u mapping(s) live\n", live);
	err = use(devfd, iova, &r);
	switch (mode) {
	case IB_UMEM_IMPORT_TEST_DYNAMIC:
		if (live || err != ENODEV)
			return scenario_fail("a revoked dynamic import must be unmapped and fail to map again with ENODEV, got %u live, %s",
					     live, pal_errno_name(err));
		break;
	case IB_UMEM_IMPORT_TEST_PINNED:
		/* Not revocable: it keeps the memory, and the exporter sees it. */
		if (live != 1 || err || r.revoked || r.pgsz != first.pgsz)
			return scenario_fail("a plain pinned import keeps its mapping across a revoke");
		break;
	default:
		if (live || err || !r.revoked || r.invalidations != 1 || r.pgsz || r.nr_blocks)
			return scenario_fail("a revoked revocable import must be unmapped for good");
		break;
	}
	if (ioctl(devfd, IB_UMEM_IMPORT_TEST_RELEASE, &r))
		return scenario_fail("release: %s", strerror(errno));
	printf("the import behaved as its mode promises\n");
	return 0;
}

/* Both paths, one window: the same blocks at the same addresses. */
static int window_agrees(int devfd, int fd, const char *pci, uint32_t flags,
			 uint64_t offset, uint64_t length)
{
	struct ib_umem_import_test pal_res, sgt_res;
	int err;

	printf("window [%#llx, +%#llx)\n", (unsigned long long)offset,
	       (unsigned long long)length);
	err = import(devfd, fd, pci, flags | IB_UMEM_IMPORT_TEST_PAL, offset, length,
		     offset, &pal_res);
	if (!err)
		err = import(devfd, fd, pci, flags, offset, length, offset, &sgt_res);
	if (err) {
		fprintf(stderr, "window [%#llx, +%#llx): %s\n", (unsigned long long)offset,
			(unsigned long long)length, pal_errno_name(err));
		return -1;
	}
	if (!pal_res.pal || sgt_res.pal || !pal_res.pgsz ||
	    pal_res.pgsz != sgt_res.pgsz || pal_res.nr_blocks != sgt_res.nr_blocks ||
	    pal_res.block_digest != sgt_res.block_digest ||
	    pal_res.nr_extents > sgt_res.nr_extents) {
		fprintf(stderr, "window [%#llx, +%#llx): the paths program different blocks\n",
			(unsigned long long)offset, (unsigned long long)length);
		return -1;
	}
	return 0;
}

static int check_windows(int devfd, const struct pal_mem *mem, const char *pci,
			 uint32_t flags, uint64_t step)
{
	const uint64_t pg = 4096, size = mem->size, mid = size / 2;
	const struct { uint64_t offset, length; } win[] = {
		{ 0, pg },
		{ size - pg, pg },
		{ step - pg, pg },
		{ step, pg },
		{ step - pg, 2 * pg },
		{ 2 * step - pg, step + 2 * pg },
		{ mid - pg, 2 * pg },
		{ mid + pg, step },
		{ step + 100, 3 * pg },
		{ pg, size - 2 * pg },
	};
	unsigned int i, n = 0;

	if (step < pg || step % pg || 4 * step > size) {
		fprintf(stderr, "--windows needs a page multiple STEP with 4 x STEP <= size\n");
		return -1;
	}
	for (i = 0; i < sizeof(win) / sizeof(win[0]); i++, n++)
		if (window_agrees(devfd, mem->dmabuf_fd, pci, flags, win[i].offset,
				  win[i].length))
			return -1;
	printf("%u windows: both paths program the same blocks\n", n);
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
		{ "import-mode", required_argument, NULL, 'M' },
		{ "scenario", required_argument, NULL, 'S' },
		{ "windows", required_argument, NULL, 'W' },
		{ 0 }
	};
	struct pal_mem_params params = { .size = 1 << 20 };
	const char *pci = NULL, *backend = "testexp", *path = "both", *expect = "0";
	struct ib_umem_import_test pal_res, sgt_res;
	uint64_t offset = 0, length = 0, iova = 0, want_pgsz = 0, windows = 0;
	int c, devfd, want, got, rc = 1;
	bool do_pal, do_sgt, fallback = false, iommu = false;
	const char *scenario = NULL;
	uint32_t mode_flags = 0;
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
		case 'M':
			if (!strcmp(optarg, "pinned"))
				mode_flags = IB_UMEM_IMPORT_TEST_PINNED;
			else if (!strcmp(optarg, "dynamic"))
				mode_flags = IB_UMEM_IMPORT_TEST_DYNAMIC;
			else if (strcmp(optarg, "revocable"))
				return 2;
			break;
		case 'S': scenario = optarg; break;
		case 'W': windows = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	want = pal_errno_parse(expect);
	if (!pci || want < 0 || !pal_mem_backend(backend) ||
	    (scenario && (strcmp(scenario, "move-revoke") || strcmp(backend, "testexp") ||
			  !strcmp(path, "both"))) ||
	    /* A set of windows through both paths, without an IOMMU, that must work. */
	    (windows && (scenario || iommu || want || fallback || offset || length ||
			 strcmp(path, "both")))) {
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
	if (windows) {
		if (check_windows(devfd, &mem, pci, mode_flags, windows))
			goto out;
		do_pal = do_sgt = false;
	}
	if (scenario) {
		if (move_revoke(devfd, &mem, pci, mode_flags | (do_pal ? IB_UMEM_IMPORT_TEST_PAL : 0),
				offset, length, iova, iommu))
			goto out;
		do_pal = do_sgt = false;
	}
	if (do_pal) {
		got = import(devfd, mem.dmabuf_fd, pci, mode_flags | IB_UMEM_IMPORT_TEST_PAL,
			     offset, length, iova, &pal_res);
		if (got != want) {
			fprintf(stderr, "list path: %s, expected %s\n", pal_errno_name(got), expect);
			goto out;
		}
	}
	if (do_sgt) {
		got = import(devfd, mem.dmabuf_fd, pci, mode_flags, offset, length, iova, &sgt_res);
		if (got != want) {
			fprintf(stderr, "sg_table path: %s, expected %s\n", pal_errno_name(got), expect);
			goto out;
		}
	}
	/* Every import, refused or not, gave back what it took. */
	if (mem.ops == &pal_mem_testexp_ops) {
		struct pal_testexp_stats st;

		if (pal_testexp_stats(mem.dmabuf_fd, &st)) {
			perror("test exporter stats");
			goto out;
		}
		if (st.attachments || st.pal_maps || st.sgt_maps || st.pins) {
			fprintf(stderr, "left behind: %u attachment(s), %u list(s), %u table(s), %u pin(s)\n",
				st.attachments, st.pal_maps, st.sgt_maps, st.pins);
			goto out;
		}
		printf("exporter: no attachment, mapping or pin left\n");
	}
	if (want) {
		printf("import failed with %s as expected\n", expect);
		rc = 0;
		goto out;
	}
	if (scenario || windows) {
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
		/*
		 * The list path links the window into an IOVA range aligned to
		 * the window's size (rounded up to a power of two), at the
		 * buffer offset's position: every page size of the device up
		 * to that size stays usable where the offset and the IOVA
		 * agree, and no larger one is bought with IOVA space. The
		 * sg_table path's layout is the exporter's mapping of the
		 * whole buffer, so its page size is shown, not compared.
		 */
		uint64_t pgsz_ok = usable_pgsz(length, offset, iova);

		if (pal_res.nr_extents != 1 || pal_res.pgsz < pgsz_ok) {
			fprintf(stderr, "behind an IOMMU the list path should be one extent with "
				"pages of at least %llu B\n", (unsigned long long)pgsz_ok);
			goto out;
		}
		printf("list path: one IOVA extent, %llu block(s) of %llu B; sg_table path: %llu of %llu B\n",
		       (unsigned long long)pal_res.nr_blocks, (unsigned long long)pal_res.pgsz,
		       (unsigned long long)sgt_res.nr_blocks, (unsigned long long)sgt_res.pgsz);
	} else if (do_pal && do_sgt) {
		if (pal_res.pgsz != sgt_res.pgsz || pal_res.nr_blocks != sgt_res.nr_blocks ||
		    pal_res.block_digest != sgt_res.block_digest) {
			fprintf(stderr, "paths disagree: page size %llu vs %llu, blocks %llu vs %llu "
				"(or their addresses)\n",
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
