// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Register a dma-buf MR through the public ibv_reg_dmabuf_mr() and check the
 * outcome against what the caller expects.
 *
 *   dmabuf_reg --device NAME --backend NAME [--size BYTES] [--fd-minus-one]
 *              --expect ERRNO|0
 *
 * --expect 0 requires success (and checks the MR's length and iova);
 * --expect EOPNOTSUPP (say) requires failure with exactly that errno.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/mem.h>

static struct ibv_context *open_device(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;

	for (int i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	return ctx;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "fd-minus-one", no_argument, NULL, 'm' },
		{ "expect", required_argument, NULL, 'e' },
		{ 0 }
	};
	const char *device = NULL, *backend = "udmabuf", *expect = NULL;
	struct pal_mem_params params = { .size = 1 << 20 };
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;
	const struct pal_mem_ops *ops;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct pal_mem mem;
	struct ibv_mr *mr;
	bool minus_one = false;
	int want, got, c, rc = 1;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': device = optarg; break;
		case 'b': backend = optarg; break;
		case 's': params.size = strtoull(optarg, NULL, 0); break;
		case 'm': minus_one = true; break;
		case 'e': expect = optarg; break;
		default: return 2;
		}
	}
	if (!device || !expect || (want = pal_errno_parse(expect)) < 0) {
		fprintf(stderr, "usage: %s --device NAME --backend NAME --expect ERRNO|0\n", argv[0]);
		return 2;
	}
	ops = pal_mem_backend(backend);
	if (!ops) {
		fprintf(stderr, "unknown memory backend %s\n", backend);
		return 2;
	}
	ctx = open_device(device);
	if (!ctx) {
		fprintf(stderr, "cannot open RDMA device %s\n", device);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	if (!pd) {
		perror("ibv_alloc_pd");
		goto close_ctx;
	}
	if (pal_mem_alloc(&mem, ops, &params)) {
		fprintf(stderr, "%s\n", mem.err);
		goto free_pd;
	}
	errno = 0;
	if (minus_one)
		mr = ibv_reg_dmabuf_mr(pd, 0, mem.size, 0, -1, access);
	else
		mr = pal_mem_reg(&mem, pd, 0, mem.size, access, true);
	got = mr ? 0 : errno;
	printf("ibv_reg_dmabuf_mr(%s, %s%s, %zu bytes) -> %s (%s)\n", device,
	       backend, minus_one ? ", fd -1" : "", mem.size,
	       pal_errno_name(got) ? pal_errno_name(got) : "?",
	       got ? strerror(got) : "registered");
	if (got != want) {
		fprintf(stderr, "expected %s\n", expect);
	} else if (mr && (mr->length != mem.size || mr->addr != NULL)) {
		fprintf(stderr, "MR covers %zu bytes at iova %p, expected %zu at 0\n",
			mr->length, mr->addr, mem.size);
	} else {
		rc = 0;
	}
	if (mr && ibv_dereg_mr(mr)) {
		perror("ibv_dereg_mr");
		rc = 1;
	}
	pal_mem_free(&mem);
free_pd:
	ibv_dealloc_pd(pd);
close_ctx:
	ibv_close_device(ctx);
	return rc;
}
