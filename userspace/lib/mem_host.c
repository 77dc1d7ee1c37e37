// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Anonymous host memory: the ibv_reg_mr() baseline; exports no dma-buf. */
#include <sys/mman.h>

#include <rdma_pal/mem.h>

static int host_alloc(struct pal_mem *mem, const struct pal_mem_params *params)
{
	(void)params;
	return pal_mem_map(mem, -1, 0, "anonymous memory");
}

static void host_free(struct pal_mem *mem)
{
	if (mem->cpu)
		munmap(mem->cpu, mem->size);
	mem->cpu = NULL;
}

const struct pal_mem_ops pal_mem_host_ops = {
	.name = "host",
	.help = "anonymous host memory (no dma-buf; ibv_reg_mr baseline)",
	.alloc = host_alloc,
	.free = host_free,
};
