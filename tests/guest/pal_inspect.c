// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Check the physical address list an exporter offers, through the series'
 * test device /dev/dma_buf_pal_test (DMA_BUF_PAL_TEST_INSPECT).
 *
 *   pal_inspect --backend NAME --size BYTES [--expect ERRNO]
 *               [--range-multiple BYTES] [--max-ranges N]
 *               [--extent-size BYTES] [--mode both|pal|sgt] [--shuffle SEED]
 *               [--expect-alloc ERRNO] [--device BDF --bar N] [--kind ram|mmio]
 *               [--no-cpu]
 *   pal_inspect --udmabuf-list OFF:LEN[,OFF:LEN...] --expect-lens LEN[,LEN...]
 *   pal_inspect --not-dmabuf memfd|socket [--expect ERRNO]
 *
 * With --expect 0 (the default) the list must cover the buffer exactly, in
 * one segment of CPU-accessible RAM (or, with --kind mmio, MMIO; with
 * --no-cpu, not CPU accessible), every range a multiple of
 * --range-multiple (default: the page size) and at most --max-ranges of
 * them. With --expect ERRNO the inspection must fail with that errno. For
 * the test exporter ("testexp"), --extent-size, --mode and --shuffle choose
 * the buffer's layout, and afterwards the exporter must count no attachment
 * and no mapping left; --expect-alloc ERRNO requires creating the buffer
 * to fail with ERRNO instead. For "vfio", --device and --bar name the
 * PCI device (bound to vfio-pci) and its BAR.
 *
 * A list that passes those checks must also be in buffer order and cover
 * every page once: the program tags each page through the exporter's CPU
 * view and the test device reads the tags back through the list's
 * addresses (for a list that is not RAM, the device must refuse that).
 *
 * --udmabuf-list makes one udmabuf of several items (UDMABUF_CREATE_LIST)
 * out of one 2 MiB hugetlb folio, each item a piece [OFF, OFF + LEN) of it
 * in the order given, so that pieces start and end inside the folio and
 * reuse its pages; the list must then have exactly the range lengths of
 * --expect-lens: one per item, merged where an item continues the one
 * before it in physical memory.
 *
 * --not-dmabuf inspects an open file that is not a dma-buf (a memfd or a
 * socket), which must fail with --expect's errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dma-buf-pal-test-uapi.h>
#include <linux/udmabuf.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/mem.h>

struct expectations {
	unsigned int kind;	/* DMA_BUF_PAL_TEST_RAM or _MMIO */
	bool no_cpu;		/* not CPU accessible (registers) */
	int alloc_err;
	int err;
	size_t range_multiple;
	unsigned long max_ranges;
};

static int check_shape(const struct pal_mem *mem, const struct dma_buf_pal_test_inspect *arg,
		       const struct dma_buf_pal_test_range *ranges, const struct expectations *e)
{
	size_t total = 0, min = SIZE_MAX, max = 0;
	int bad = 0;

	if (arg->size != mem->size) {
		fprintf(stderr, "list covers %llu bytes, the buffer is %zu\n",
			(unsigned long long)arg->size, mem->size);
		bad = 1;
	}
	if (arg->nr_segs != 1) {
		fprintf(stderr, "%u segments, expected one\n", arg->nr_segs);
		bad = 1;
	}
	if (e->max_ranges && arg->nr_ranges > e->max_ranges) {
		fprintf(stderr, "%u ranges, expected at most %lu\n", arg->nr_ranges, e->max_ranges);
		bad = 1;
	}
	for (unsigned int i = 0; i < arg->nr_ranges; i++) {
		const struct dma_buf_pal_test_range *r = &ranges[i];

		total += r->len;
		min = r->len < min ? r->len : min;
		max = r->len > max ? r->len : max;
		if (r->kind != e->kind || r->flags != (e->no_cpu ? 0 : DMA_BUF_PAL_TEST_CPU)) {
			fprintf(stderr, "range %u: kind %u flags %#x, expected kind %u, %s\n",
				i, r->kind, r->flags, e->kind,
				e->no_cpu ? "not CPU-accessible" : "CPU-accessible");
			bad = 1;
		}
		if (!r->len || r->len % e->range_multiple) {
			fprintf(stderr, "range %u: %llu bytes, not a multiple of %zu\n",
				i, (unsigned long long)r->len, e->range_multiple);
			bad = 1;
		}
	}
	if (total != mem->size) {
		fprintf(stderr, "ranges add up to %zu bytes, the buffer is %zu\n", total, mem->size);
		bad = 1;
	}
	printf("%s, %zu bytes: %u %s%s range(s) in %u segment(s), %zu to %zu bytes each\n",
	       mem->ops->name, mem->size, arg->nr_ranges, e->no_cpu ? "non-CPU " : "",
	       e->kind == DMA_BUF_PAL_TEST_MMIO ? "MMIO" : "RAM", arg->nr_segs, min, max);
	return bad;
}

/* The tag written at the start of page i: distinct for every page. */
static uint64_t page_tag(size_t i)
{
	return 0x7061676500000000ULL | i;	/* "page" */
}

/*
 * A list of the right shape can still be out of buffer order or cover a
 * page twice and another not at all. Tag every page through the exporter's
 * CPU view, have the device read the tags through the list's addresses in
 * list order (DMA_BUF_PAL_TEST_INSPECT_TAGS), and require page i's own tag
 * at position i. A list that is not all RAM must be refused (EOPNOTSUPP),
 * and so must an unknown flag (EINVAL).
 */
static int check_tags(int devfd, const struct pal_mem *mem, const struct expectations *e)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = mem->size / page, i, bad = 0;
	struct dma_buf_pal_test_inspect arg = {
		.fd = mem->dmabuf_fd, .flags = 0x80000000u,
	};
	uint64_t *tags;
	int got, want = e->kind == DMA_BUF_PAL_TEST_RAM ? 0 : EOPNOTSUPP;

	got = ioctl(devfd, DMA_BUF_PAL_TEST_INSPECT, &arg) ? errno : 0;
	if (got != EINVAL) {
		fprintf(stderr, "INSPECT with an unknown flag: %s, expected EINVAL\n",
			pal_errno_name(got));
		return 1;
	}
	tags = calloc(pages, sizeof(*tags));
	if (!tags) {
		perror("calloc");
		return 1;
	}
	if (!want)
		for (i = 0; i < pages; i++) {
			uint64_t t = page_tag(i);

			memcpy((uint8_t *)mem->cpu + i * page, &t, sizeof(t));
		}
	arg.flags = DMA_BUF_PAL_TEST_INSPECT_TAGS;
	arg.max_tags = (__u32)pages;
	arg.tags_ptr = (uintptr_t)tags;
	got = ioctl(devfd, DMA_BUF_PAL_TEST_INSPECT, &arg) ? errno : 0;
	if (got != want) {
		fprintf(stderr, "INSPECT with tags: %s, expected %s\n", pal_errno_name(got),
			pal_errno_name(want));
		free(tags);
		return 1;
	}
	if (want) {
		printf("tags through a list that is not RAM: %s, as expected\n",
		       pal_errno_name(got));
		free(tags);
		return 0;
	}
	for (i = 0; i < pages; i++) {
		if (tags[i] == page_tag(i))
			continue;
		if (!bad++)
			fprintf(stderr, "page %zu: the list's address holds %#llx, page %zu's tag is %#llx (list out of order, or a page twice)\n",
				i, (unsigned long long)tags[i], i, (unsigned long long)page_tag(i));
	}
	free(tags);
	if (bad) {
		fprintf(stderr, "%zu of %zu pages are not where the list says\n", bad, pages);
		return 1;
	}
	printf("tags: all %zu pages read through the list in buffer order, each once\n", pages);
	return 0;
}

/* The test exporter must be left with no attachment and no mapping. */
static int check_released(int devfd, const struct pal_mem *mem)
{
	struct dma_buf_pal_test_stats stats = { .fd = mem->dmabuf_fd };

	if (ioctl(devfd, DMA_BUF_PAL_TEST_STATS, &stats)) {
		perror("DMA_BUF_PAL_TEST_STATS");
		return 1;
	}
	if (stats.attachments || stats.pal_maps || stats.sgt_maps) {
		fprintf(stderr, "left behind: %u attachment(s), %u list(s), %u sg_table(s)\n",
			stats.attachments, stats.pal_maps, stats.sgt_maps);
		return 1;
	}
	return 0;
}

static int parse_mode(const char *s)
{
	static const char *const names[] = {
		[DMA_BUF_PAL_TEST_MODE_BOTH] = "both",
		[DMA_BUF_PAL_TEST_MODE_PAL] = "pal",
		[DMA_BUF_PAL_TEST_MODE_SGT] = "sgt",
	};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}

/* Allocation expected to fail: with exactly e->alloc_err. */
static int check_alloc_failure(struct pal_mem *mem, const struct pal_mem_ops *ops,
			       const struct pal_mem_params *params, const struct expectations *e)
{
	if (!pal_mem_alloc(mem, ops, params)) {
		fprintf(stderr, "%s: allocating %zu bytes succeeded, expected %s\n",
			ops->name, params->size, pal_errno_name(e->alloc_err));
		pal_mem_free(mem);
		return 1;
	}
	if (errno != e->alloc_err) {
		fprintf(stderr, "%s, expected %s\n", mem->err, pal_errno_name(e->alloc_err));
		return 1;
	}
	printf("%s, as expected\n", mem->err);
	return 0;
}

/*
 * glibc's MFD_* and the series' <linux/memfd.h> disagree on spelling, so
 * the latter cannot be included here; the 2 MiB size is log2 << 26.
 */
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

#define MAX_ITEMS 16
#define HUGE_2M (2UL << 20)

/* "A:B,C:D" into pairs, or "A,B" into singles (b NULL); count, -1 if bad. */
static int parse_list(const char *s, unsigned long long *a, unsigned long long *b)
{
	int n = 0;
	char *end;

	while (*s && n < MAX_ITEMS) {
		a[n] = strtoull(s, &end, 0);
		if (b) {
			if (*end != ':')
				return -1;
			b[n] = strtoull(end + 1, &end, 0);
		}
		n++;
		if (*end != ',' && *end)
			return -1;
		s = *end ? end + 1 : end;
	}
	return *s ? -1 : n;
}

/* The list of a udmabuf made of pieces of one hugetlb folio. */
static int check_udmabuf_list(const char *items, const char *lens)
{
	unsigned long long off[MAX_ITEMS], len[MAX_ITEMS], want[MAX_ITEMS];
	struct dma_buf_pal_test_range ranges[MAX_ITEMS * 2];
	struct dma_buf_pal_test_inspect arg = { 0 };
	struct udmabuf_create_item *list;
	struct udmabuf_create_list *head;
	int n = parse_list(items, off, len), nw = parse_list(lens, want, NULL);
	int memfd = -1, devfd = -1, fd = -1, rc = 1;
	unsigned long long total = 0;

	if (n <= 0 || nw <= 0) {
		fprintf(stderr, "bad --udmabuf-list or --expect-lens\n");
		return 2;
	}
	head = calloc(1, sizeof(*head) + n * sizeof(*list));
	if (!head)
		return 1;
	list = head->list;
	memfd = memfd_create("pal-inspect-list", MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_HUGE_2MB);
	if (memfd < 0 || ftruncate(memfd, HUGE_2M) ||
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		perror("hugetlb memfd of 2 MiB");
		goto out;
	}
	head->count = (__u32)n;
	for (int i = 0; i < n; i++) {
		list[i] = (struct udmabuf_create_item){ .memfd = (__u32)memfd,
							.offset = off[i], .size = len[i] };
		total += len[i];
	}
	devfd = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	fd = devfd < 0 ? -1 : ioctl(devfd, UDMABUF_CREATE_LIST, head);
	if (fd < 0) {
		perror("UDMABUF_CREATE_LIST");
		goto out;
	}
	close(devfd);
	devfd = open("/dev/dma_buf_pal_test", O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		perror("open /dev/dma_buf_pal_test");
		goto out;
	}
	arg.fd = fd;
	arg.max_ranges = MAX_ITEMS * 2;
	arg.ranges_ptr = (uintptr_t)ranges;
	if (ioctl(devfd, DMA_BUF_PAL_TEST_INSPECT, &arg)) {
		perror("DMA_BUF_PAL_TEST_INSPECT");
		goto out;
	}
	rc = arg.size != total || arg.nr_segs != 1 || arg.nr_ranges != (__u32)nw;
	for (int i = 0; !rc && i < nw; i++)
		rc = ranges[i].len != want[i] || ranges[i].kind != DMA_BUF_PAL_TEST_RAM ||
		     ranges[i].flags != DMA_BUF_PAL_TEST_CPU;
	printf("udmabuf of %d pieces of one folio, %llu bytes: %u range(s) in %u segment(s):",
	       n, (unsigned long long)arg.size, arg.nr_ranges, arg.nr_segs);
	for (unsigned int i = 0; i < arg.nr_ranges && i < MAX_ITEMS * 2; i++)
		printf(" %llu", (unsigned long long)ranges[i].len);
	printf("%s\n", rc ? " (not what --expect-lens says)" : "");
out:
	if (fd >= 0)
		close(fd);
	if (devfd >= 0)
		close(devfd);
	if (memfd >= 0)
		close(memfd);
	free(head);
	return rc;
}

/* INSPECT of a file that is not a dma-buf must fail with want. */
static int check_not_dmabuf(const char *kind, int want)
{
	struct dma_buf_pal_test_inspect arg = { 0 };
	int fd, devfd, got;

	if (!strcmp(kind, "memfd"))
		fd = memfd_create("pal-inspect-not-dmabuf", MFD_CLOEXEC);
	else if (!strcmp(kind, "socket"))
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	else
		return 2;
	devfd = open("/dev/dma_buf_pal_test", O_RDWR | O_CLOEXEC);
	if (fd < 0 || devfd < 0) {
		perror(fd < 0 ? kind : "open /dev/dma_buf_pal_test");
		return 1;
	}
	arg.fd = fd;
	got = ioctl(devfd, DMA_BUF_PAL_TEST_INSPECT, &arg) ? errno : 0;
	close(devfd);
	close(fd);
	printf("DMA_BUF_PAL_TEST_INSPECT on a %s: %s, expected %s\n", kind,
	       got ? pal_errno_name(got) : "success", pal_errno_name(want));
	return got != want;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "expect", required_argument, NULL, 'e' },
		{ "range-multiple", required_argument, NULL, 'r' },
		{ "max-ranges", required_argument, NULL, 'm' },
		{ "extent-size", required_argument, NULL, 'x' },
		{ "mode", required_argument, NULL, 'o' },
		{ "shuffle", required_argument, NULL, 'f' },
		{ "expect-alloc", required_argument, NULL, 'a' },
		{ "device", required_argument, NULL, 'D' },
		{ "bar", required_argument, NULL, 'B' },
		{ "kind", required_argument, NULL, 'k' },
		{ "no-cpu", no_argument, NULL, 'n' },
		{ "not-dmabuf", required_argument, NULL, 'N' },
		{ "udmabuf-list", required_argument, NULL, 'L' },
		{ "expect-lens", required_argument, NULL, 'l' },
		{ 0 }
	};
	struct expectations e = { .range_multiple = (size_t)sysconf(_SC_PAGESIZE) };
	struct pal_mem_params params = { .size = 1 << 20 };
	struct dma_buf_pal_test_inspect arg = { 0 };
	struct dma_buf_pal_test_range *ranges;
	const char *backend = "udmabuf", *items = NULL, *lens = NULL, *not_dmabuf = NULL;
	const struct pal_mem_ops *ops;
	struct pal_mem mem;
	int c, devfd, got, mode = 0, rc = 1;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 's': params.size = strtoull(optarg, NULL, 0); break;
		case 'e': e.err = pal_errno_parse(optarg); break;
		case 'r': e.range_multiple = strtoull(optarg, NULL, 0); break;
		case 'm': e.max_ranges = strtoul(optarg, NULL, 0); break;
		case 'x': params.extent_size = strtoull(optarg, NULL, 0); break;
		case 'o': mode = parse_mode(optarg); params.mode = (unsigned int)mode; break;
		case 'f': params.shuffle = true; params.seed = strtoull(optarg, NULL, 0); break;
		case 'a': e.alloc_err = pal_errno_parse(optarg); break;
		case 'D': params.pci_device = optarg; break;
		case 'B': params.bar = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'n': e.no_cpu = true; break;
		case 'N': not_dmabuf = optarg; break;
		case 'L': items = optarg; break;
		case 'l': lens = optarg; break;
		case 'k':
			e.kind = strcmp(optarg, "mmio") ? DMA_BUF_PAL_TEST_RAM : DMA_BUF_PAL_TEST_MMIO;
			break;
		default: return 2;
		}
	}
	if (items || lens)
		return items && lens ? check_udmabuf_list(items, lens) : 2;
	if (not_dmabuf)
		return check_not_dmabuf(not_dmabuf, e.err);
	ops = pal_mem_backend(backend);
	if (!ops || e.err < 0 || e.alloc_err < 0 || mode < 0 || !e.range_multiple) {
		fprintf(stderr, "usage: %s --backend NAME --size BYTES [--expect ERRNO]"
			" [--range-multiple BYTES] [--max-ranges N] [--extent-size BYTES]"
			" [--mode both|pal|sgt] [--shuffle SEED] [--expect-alloc ERRNO]"
			" [--device BDF --bar N] [--kind ram|mmio]\n",
			argv[0]);
		return 2;
	}
	if (e.alloc_err)
		return check_alloc_failure(&mem, ops, &params, &e);
	if (pal_mem_alloc(&mem, ops, &params)) {
		fprintf(stderr, "%s\n", mem.err);
		return 1;
	}
	devfd = open("/dev/dma_buf_pal_test", O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		perror("open /dev/dma_buf_pal_test");
		goto free_mem;
	}
	ranges = calloc(mem.size / 4096, sizeof(*ranges));
	if (!ranges) {
		perror("calloc");
		goto close_dev;
	}
	arg.fd = mem.dmabuf_fd;
	arg.max_ranges = (__u32)(mem.size / 4096);
	arg.ranges_ptr = (uintptr_t)ranges;
	got = ioctl(devfd, DMA_BUF_PAL_TEST_INSPECT, &arg) ? errno : 0;
	if (got != e.err) {
		fprintf(stderr, "DMA_BUF_PAL_TEST_INSPECT on %s: %s, expected %s\n", backend,
			got ? strerror(got) : "success", pal_errno_name(e.err));
	} else if (got) {
		printf("DMA_BUF_PAL_TEST_INSPECT on %s: %s, as expected\n", backend,
		       pal_errno_name(got));
		rc = 0;
	} else {
		rc = check_shape(&mem, &arg, ranges, &e);
		if (!rc && !e.no_cpu)
			rc = check_tags(devfd, &mem, &e);
	}
	if (ops == &pal_mem_testexp_ops)
		rc |= check_released(devfd, &mem);
	free(ranges);
close_dev:
	close(devfd);
free_mem:
	pal_mem_free(&mem);
	return rc;
}
