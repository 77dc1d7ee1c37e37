// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The memory an MR keeps, as restrack reports it ('rdma -dd -j resource
 * show mr'): "mr_bytes" (what the MR keeps to translate its addresses: its
 * arrays as the kernel allocated them, sg_table entries counted) and, for a dma-buf MR, "dmabuf_list_bytes" (the
 * exporter's list, which the MRs of one buffer share).
 *
 *   mr_bytes --device NAME
 *
 * Checks, on a device without DMA (rxe, siw):
 *  - a dma-buf MR of a whole fragmented buffer keeps one 16-byte extent per
 *    range, and a window starting and ending inside ranges keeps only the
 *    pieces of its window, fewer bytes than the whole buffer's MR;
 *  - both MRs hold the same list, of at least 16 bytes per range, and the
 *    list of a fully fragmented buffer keeps 16 bytes a range (an address
 *    and an end offset), not more;
 *  - on the same udmabuf pages, a dma-buf MR keeps fewer bytes than
 *    ibv_reg_mr(), which keeps a 16-byte page entry per page and the
 *    umem's sg_table, and udmabuf's list keeps 16 bytes a run of
 *    contiguous pages, not a page;
 *  - an ordinary MR of more than 1 GiB registers and keeps an entry per
 *    page (rxe's page array once was one kmalloc(), limited to 4 MiB);
 *  - once deregistered, no MR of the process is reported.
 * Prints TAP; exit status 0 only if every check passed. Run it in the
 * device's network namespace.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rdma_pal/mem.h>
#include <rdma_pal/restrack.h>
#include <rdma_pal/testexp.h>

#define KiB (1UL << 10)
#define RW (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ)

/* An 8-byte physical address and an 8-byte end: one extent of the MR. */
#define EXTENT_BYTES 16
/* An address and an end offset: one range of the exporter's list. */
#define RANGE_BYTES 16
/* A list's own struct and one segment, as kmalloc() rounds them. */
#define LIST_FIXED_BYTES 1024

#define MAX_REPORTS 16


static unsigned int tap_n;
static bool failed;

static void tap(bool ok, const char *what)
{
	printf("%sok %u - %s\n", ok ? "" : "not ", ++tap_n, what);
	failed |= !ok;
}

/* The MRs of this process on the device, as restrack reports them. */
static int read_reports(const char *dev, struct pal_restrack_mr *r, unsigned int *nr)
{
	struct pal_restrack_mr *mrs;
	size_t n;

	mrs = pal_restrack_mrs(dev, &n);
	if (!mrs || n > MAX_REPORTS) {
		printf("# rdma resource show mr failed, or too many MRs\n");
		free(mrs);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		printf("# lkey %#x: pal %d, extents %lld, bytes %lld, list %lld\n", mrs[i].lkey,
		       mrs[i].pal, (long long)mrs[i].extents, (long long)mrs[i].bytes,
		       (long long)mrs[i].list_bytes);
		r[i] = mrs[i];
	}
	*nr = n;
	free(mrs);
	return 0;
}

static const struct pal_restrack_mr *find_report(const struct pal_restrack_mr *r, unsigned int nr,
					   const struct ibv_mr *mr)
{
	for (unsigned int i = 0; i < nr; i++)
		if (r[i].lkey == mr->lkey)
			return &r[i];
	return NULL;
}

/*
 * Bytes a kmalloc of @want may take at most: its bucket is under twice the
 * size, or whole pages from vmalloc beyond that.
 */
static bool fits(int64_t got, uint64_t want)
{
	return got >= (int64_t)want && got <= (int64_t)(2 * want + 4096);
}

/*
 * What kmalloc() takes for @n bytes on x86-64: its buckets up to 8 KiB,
 * whole pages of a power-of-two order beyond.
 */
static uint64_t kmalloc_bytes(uint64_t n)
{
	static const uint64_t buckets[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024,
					    2048, 4096, 8192 };
	uint64_t pages = 1;

	for (size_t i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++)
		if (n <= buckets[i])
			return buckets[i];
	while (pages * 4096 < n)
		pages *= 2;
	return pages * 4096;
}

/* Whole buffer and a window inside ranges of a fragmented test export. */
static void check_windows(struct ibv_pd *pd, const char *dev)
{
	/* 16 ranges of 64 KiB; the window covers 3 pieces of 3 ranges. */
	struct pal_mem_params params = { .size = 1024 * KiB, .extent_size = 64 * KiB,
					 .shuffle = true, .seed = 7 };
	const uint64_t win_off = 96 * KiB, win_len = 128 * KiB;
	const struct pal_restrack_mr *whole_r, *win_r;
	struct ibv_mr *whole = NULL, *win = NULL;
	struct pal_restrack_mr r[MAX_REPORTS];
	struct pal_mem mem = { 0 };
	uint32_t ranges = 0;
	unsigned int nr = 0;
	bool ok;

	if (pal_mem_alloc(&mem, &pal_mem_testexp_ops, &params) ||
	    pal_dmabuf_inspect(mem.dmabuf_fd, &ranges, NULL)) {
		printf("# test exporter: %s\n", mem.err);
		tap(false, "test exporter buffer of 16 ranges of 64 KiB");
		goto out;
	}
	whole = ibv_reg_dmabuf_mr(pd, 0, mem.size, 0, mem.dmabuf_fd, RW);
	win = ibv_reg_dmabuf_mr(pd, win_off, win_len, 0, mem.dmabuf_fd, RW);
	if (!whole || !win || read_reports(dev, r, &nr)) {
		printf("# registration or rdma failed: %s\n", strerror(errno));
		tap(false, "restrack reports the two dma-buf MRs");
		goto out;
	}
	whole_r = find_report(r, nr, whole);
	win_r = find_report(r, nr, win);
	tap(whole_r && win_r && whole_r->pal && win_r->pal,
	    "restrack reports both dma-buf MRs as list imports");
	if (!whole_r || !win_r)
		goto out;
	ok = whole_r->extents == ranges && fits(whole_r->bytes, ranges * EXTENT_BYTES);
	printf("# whole buffer: %u ranges, %lld extents, %lld bytes\n", ranges,
	       (long long)whole_r->extents, (long long)whole_r->bytes);
	tap(ok, "whole-buffer MR keeps one 16-byte extent per range");
	ok = win_r->extents == 3 && fits(win_r->bytes, 3 * EXTENT_BYTES) &&
	     win_r->bytes < whole_r->bytes;
	printf("# window: %lld extents, %lld bytes\n", (long long)win_r->extents,
	       (long long)win_r->bytes);
	tap(ok, "window inside ranges keeps its 3 pieces only, fewer bytes than the whole");
	ok = whole_r->list_bytes == win_r->list_bytes &&
	     whole_r->list_bytes >= (int64_t)ranges * RANGE_BYTES;
	printf("# list: %lld and %lld bytes\n", (long long)whole_r->list_bytes,
	       (long long)win_r->list_bytes);
	tap(ok, "both MRs hold the buffer's one list, 16 bytes or more per range");
out:
	if (win)
		ibv_dereg_mr(win);
	if (whole)
		ibv_dereg_mr(whole);
	pal_mem_free(&mem);
}

/*
 * A fully fragmented 4 MiB test export: the list is sized for one range a
 * page and keeps 16 bytes for each, with the lengths derived from the
 * ends (it once kept a phys_vec and an end offset, 24 bytes, a range).
 */
static void check_list_size(struct ibv_pd *pd, const char *dev)
{
	struct pal_mem_params params = { .size = 4096 * KiB, .extent_size = 4 * KiB,
					 .shuffle = true, .seed = 11 };
	const struct pal_restrack_mr *rep;
	struct pal_restrack_mr r[MAX_REPORTS];
	struct pal_mem mem = { 0 };
	struct ibv_mr *mr = NULL;
	uint32_t ranges = 0;
	unsigned int nr = 0;
	uint64_t pages;

	if (pal_mem_alloc(&mem, &pal_mem_testexp_ops, &params) ||
	    pal_dmabuf_inspect(mem.dmabuf_fd, &ranges, NULL)) {
		printf("# test exporter: %s\n", mem.err);
		goto fail;
	}
	pages = mem.size / 4096;
	mr = ibv_reg_dmabuf_mr(pd, 0, mem.size, 0, mem.dmabuf_fd, RW);
	if (!mr || read_reports(dev, r, &nr) || !(rep = find_report(r, nr, mr))) {
		printf("# registration or rdma failed: %s\n", strerror(errno));
		goto fail;
	}
	printf("# %llu pages, %u ranges: list %lld bytes\n", (unsigned long long)pages, ranges,
	       (long long)rep->list_bytes);
	tap(rep->list_bytes >= (int64_t)ranges * RANGE_BYTES &&
	    rep->list_bytes <= (int64_t)(pages * RANGE_BYTES + LIST_FIXED_BYTES),
	    "a fully fragmented list keeps 16 bytes a range");
	goto out;
fail:
	tap(false, "a fully fragmented list keeps 16 bytes a range");
out:
	if (mr)
		ibv_dereg_mr(mr);
	pal_mem_free(&mem);
}

/* A dma-buf MR and ibv_reg_mr() of the same udmabuf pages. */
static void check_same_pages(struct ibv_pd *pd, const char *dev)
{
	struct pal_mem_params params = { .size = 1024 * KiB };
	const struct pal_restrack_mr *dmabuf_r, *reg_r;
	struct ibv_mr *dmabuf = NULL, *reg = NULL;
	struct pal_restrack_mr r[MAX_REPORTS];
	struct pal_mem mem = { 0 };
	unsigned int nr = 0;
	uint64_t pages;

	if (pal_mem_alloc(&mem, &pal_mem_udmabuf_ops, &params)) {
		printf("# udmabuf: %s\n", mem.err);
		tap(false, "udmabuf of 1 MiB");
		goto out;
	}
	pages = mem.size / sysconf(_SC_PAGESIZE);
	dmabuf = ibv_reg_dmabuf_mr(pd, 0, mem.size, 0, mem.dmabuf_fd, RW);
	reg = ibv_reg_mr(pd, mem.cpu, mem.size, RW);
	if (!dmabuf || !reg || read_reports(dev, r, &nr)) {
		printf("# registration or rdma failed: %s\n", strerror(errno));
		tap(false, "restrack reports both MRs of the same pages");
		goto out;
	}
	dmabuf_r = find_report(r, nr, dmabuf);
	reg_r = find_report(r, nr, reg);
	if (!dmabuf_r || !reg_r) {
		tap(false, "restrack reports both MRs of the same pages");
		goto out;
	}
	printf("# %llu pages: dma-buf MR %lld bytes (%lld extents) + list %lld, "
	       "ibv_reg_mr %lld bytes\n", (unsigned long long)pages,
	       (long long)dmabuf_r->bytes, (long long)dmabuf_r->extents,
	       (long long)dmabuf_r->list_bytes, (long long)reg_r->bytes);
	/* Its page array, and at least one sg entry. */
	tap(reg_r->bytes >= (int64_t)(pages * 16 + 32) && reg_r->list_bytes < 0,
	    "ibv_reg_mr keeps a 16-byte entry per page and an sg_table, no list");
	tap(dmabuf_r->extents >= 1 && fits(dmabuf_r->bytes, dmabuf_r->extents * EXTENT_BYTES) &&
	    dmabuf_r->bytes < reg_r->bytes,
	    "the dma-buf MR of the same pages keeps 16 bytes per extent, less than ibv_reg_mr");
	/*
	 * udmabuf sizes its list for a range a page, then gives back what
	 * the merged runs of contiguous pages do not use: the whole-buffer
	 * MR has one extent per run.
	 */
	tap(dmabuf_r->list_bytes >= dmabuf_r->extents * RANGE_BYTES &&
	    dmabuf_r->list_bytes <= (int64_t)(2 * kmalloc_bytes(dmabuf_r->extents * 8) +
					      LIST_FIXED_BYTES),
	    "udmabuf's list keeps 16 bytes a run of contiguous pages, not a page");
out:
	if (reg)
		ibv_dereg_mr(reg);
	if (dmabuf)
		ibv_dereg_mr(dmabuf);
	pal_mem_free(&mem);
}

/*
 * An ordinary MR of more than 1 GiB of 4 KiB pages: one 64 MiB memfd
 * mapped again and again over the range, so that the guest needs 64 MiB,
 * not 1 GiB. rxe once kept its page array in one kmalloc(), which cannot
 * hold 262,145 entries: the registration failed with ENOMEM and the page
 * allocator warned (the suite's dmesg check catches the warning).
 */
static void check_large(struct ibv_pd *pd, const char *dev)
{
	const size_t chunk = 64 * KiB * KiB, nr_chunks = 17;
	const size_t length = (1UL << 30) + 4 * KiB;
	const struct pal_restrack_mr *rep;
	struct pal_restrack_mr r[MAX_REPORTS];
	struct ibv_mr *mr = NULL;
	unsigned int nr = 0;
	char *va = MAP_FAILED;
	int memfd;

	memfd = memfd_create("mr_bytes", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, chunk)) {
		printf("# memfd: %s\n", strerror(errno));
		goto fail;
	}
	va = mmap(NULL, chunk * nr_chunks, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED)
		goto fail;
	for (size_t i = 0; i < nr_chunks; i++)
		if (mmap(va + i * chunk, chunk, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 memfd, 0) == MAP_FAILED) {
			printf("# mmap: %s\n", strerror(errno));
			goto fail;
		}
	memset(va, 0, chunk);
	mr = ibv_reg_mr(pd, va, length, RW);
	if (!mr) {
		printf("# ibv_reg_mr(%zu bytes): %s\n", length, strerror(errno));
		goto fail;
	}
	if (read_reports(dev, r, &nr) || !(rep = find_report(r, nr, mr))) {
		printf("# no restrack report of the MR\n");
		goto fail;
	}
	printf("# %zu pages: %lld bytes\n", length / 4096, (long long)rep->bytes);
	tap(rep->bytes >= (int64_t)(length / 4096 * 16),
	    "ibv_reg_mr of 1 GiB + 4 KiB registers and keeps its 262,145 page entries");
	goto out;
fail:
	tap(false, "ibv_reg_mr of 1 GiB + 4 KiB registers and keeps its 262,145 page entries");
out:
	if (mr)
		ibv_dereg_mr(mr);
	if (va != MAP_FAILED)
		munmap(va, chunk * nr_chunks);
	if (memfd >= 0)
		close(memfd);
}

int main(int argc, char **argv)
{
	struct pal_restrack_mr r[MAX_REPORTS];
	const char *dev = NULL;
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd = NULL;
	unsigned int nr = 1;
	int c;

	while ((c = getopt(argc, argv, "d:")) != -1) {
		if (c != 'd')
			return 2;
		dev = optarg;
	}
	if (!dev) {
		fprintf(stderr, "usage: mr_bytes -d DEVICE\n");
		return 2;
	}
	list = ibv_get_device_list(NULL);
	for (int i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), dev))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	if (ctx)
		pd = ibv_alloc_pd(ctx);
	if (!pd) {
		printf("Bail out! no protection domain on %s\n", dev);
		return 1;
	}
	printf("TAP version 13\n1..10\n");
	check_windows(pd, dev);
	check_list_size(pd, dev);
	check_same_pages(pd, dev);
	check_large(pd, dev);
	tap(!read_reports(dev, r, &nr) && nr == 0, "no MR of the process is left reported");
	while (tap_n < 10)
		tap(false, "(not reached)");
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	return failed;
}
