// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pal_bench: benchmarks of dma-buf MRs imported as physical address lists.
 *
 *   pal_bench bw|reg|revoke|refault|topo|import [options]   (--help after each)
 *   pal_bench --backends                       the memory backends
 */
#include <string.h>

#include "bench.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: pal_bench COMMAND [options]\n"
		"  bw      RDMA WRITE/READ/SEND bandwidth, perftest's table and JSON\n"
		"  reg     MR registration time vs size and layout, dma-buf vs ibv_reg_mr\n"
		"  revoke  time to revoke or move a buffer with 1..N MRs on it\n"
		"  topo    NUMA and PCI locality of the RDMA device and the exporter\n"
		"  import  kernel import cost for a DMA device: list vs sg_table path\n"
		"  refault first access to an on-demand dma-buf MR after a move\n"
		"  --backends  list the memory backends (--memory BACKEND[:EXTENT[:SEED]])\n"
		"  -V, --version  print the version\n"
		"'pal_bench COMMAND --help' explains each command's flags.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage();
		return 2;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		bench_print_version();
		return 0;
	}
	if (!strcmp(argv[1], "--backends")) {
		for (const struct pal_mem_ops *const *b = pal_mem_backends(); *b; b++)
			printf("%-14s %s\n", (*b)->name, (*b)->help);
		return 0;
	}
	/* Each command parses argv from its own name on. */
	if (!strcmp(argv[1], "bw"))
		return bench_bw(argc - 1, argv + 1);
	if (!strcmp(argv[1], "reg"))
		return bench_reg(argc - 1, argv + 1);
	if (!strcmp(argv[1], "revoke"))
		return bench_revoke(argc - 1, argv + 1);
	if (!strcmp(argv[1], "topo"))
		return bench_topo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "import"))
		return bench_import(argc - 1, argv + 1);
	if (!strcmp(argv[1], "refault"))
		return bench_refault(argc - 1, argv + 1);
	usage();
	return 2;
}
