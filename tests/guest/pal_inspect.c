// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Check the physical address list an exporter offers, through the series'
 * test device /dev/dma_buf_pal_test (DMA_BUF_PAL_TEST_INSPECT).
 *
 *   pal_inspect --backend NAME --size BYTES [--expect ERRNO]
 *               [--range-multiple BYTES] [--max-ranges N]
 *
 * With --expect 0 (the default) the list must cover the buffer exactly, in
 * one segment of CPU-accessible RAM, every range a multiple of
 * --range-multiple (default: the page size) and at most --max-ranges of
 * them. With --expect ERRNO the inspection must fail with that errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-buf-pal-test.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/mem.h>

struct expectations {
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
		fprintf(stderr, "%u segments, expected one of RAM\n", arg->nr_segs);
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
		if (r->kind != DMA_BUF_PAL_TEST_RAM || r->flags != DMA_BUF_PAL_TEST_CPU) {
			fprintf(stderr, "range %u: kind %u flags %#x, expected CPU-accessible RAM\n",
				i, r->kind, r->flags);
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
	printf("%s, %zu bytes: %u range(s) in %u segment(s), %zu to %zu bytes each\n",
	       mem->ops->name, mem->size, arg->nr_ranges, arg->nr_segs, min, max);
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "expect", required_argument, NULL, 'e' },
		{ "range-multiple", required_argument, NULL, 'r' },
		{ "max-ranges", required_argument, NULL, 'm' },
		{ 0 }
	};
	struct expectations e = { .range_multiple = (size_t)sysconf(_SC_PAGESIZE) };
	struct pal_mem_params params = { .size = 1 << 20 };
	struct dma_buf_pal_test_inspect arg = { 0 };
	struct dma_buf_pal_test_range *ranges;
	const char *backend = "udmabuf";
	const struct pal_mem_ops *ops;
	struct pal_mem mem;
	int c, devfd, got, rc = 1;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': backend = optarg; break;
		case 's': params.size = strtoull(optarg, NULL, 0); break;
		case 'e': e.err = pal_errno_parse(optarg); break;
		case 'r': e.range_multiple = strtoull(optarg, NULL, 0); break;
		case 'm': e.max_ranges = strtoul(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	ops = pal_mem_backend(backend);
	if (!ops || e.err < 0 || !e.range_multiple) {
		fprintf(stderr, "usage: %s --backend NAME --size BYTES [--expect ERRNO]"
			" [--range-multiple BYTES] [--max-ranges N]\n", argv[0]);
		return 2;
	}
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
	}
	free(ranges);
close_dev:
	close(devfd);
free_mem:
	pal_mem_free(&mem);
	return rc;
}
