// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ibv_reg_dmabuf_mr() on one device: a table of registrations, good and
 * bad, each with the errno it must give, through the public API.
 *
 *   dmabuf_reg --device NAME [--vfio BDF [--vfio-registers BDF]] [--only SUBSTRING]
 *              [--show-restrack]
 *              [--no-on-demand] [--no-atomics]
 *
 * --show-restrack also requires 'rdma -dd resource show mr' to report each
 * registered MR as a list import with extents, in the registered mode.
 * --no-on-demand: the device offers no on-demand dma-buf MRs (siw, or any
 * device on a kernel with CONFIG_INFINIBAND_ON_DEMAND_PAGING=n): every case
 * asking for IBV_ACCESS_ON_DEMAND must fail with EINVAL (the access flag is
 * refused before anything else, as for any device without them), and
 * every other case as in the table.
 * --no-atomics: the device has no atomics (siw): it accepts remote atomic
 * access on any MR, as on its ordinary MRs, since it never performs one;
 * the cases that expect the flag refused on MMIO expect success instead.
 *
 * Every registration that succeeds must also work: an RDMA WRITE of up to
 * 4 KiB of a seeded pattern to the MR's first bytes, from a second QP of the
 * same device (struct pal_loop), must land in the exporter's CPU view at
 * the MR's offset, and an RDMA READ must return it (the MR's length and
 * address, which libibverbs copies from the arguments, prove nothing).
 * Run it in the device's network namespace.
 *
 * Prints one TAP line per case ("ok N - ..."), then checks that the test
 * exporter buffers of all cases have no attachment left (nothing leaked on
 * an error path). Exit status 0 only if every case passed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dma-buf-pal-test-uapi.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/loop.h>
#include <rdma_pal/mem.h>
#include <rdma_pal/pattern.h>
#include <rdma_pal/testexp.h>

#define MiB (1UL << 20)
#define KiB (1UL << 10)

#define RW (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ)

/* Which descriptor a case registers. */
enum fd_kind {
	FD_DMABUF,	/* the buffer's dma-buf */
	FD_MINUS_ONE,	/* -1, as UCX probes */
	FD_MEMFD,	/* an open file that is not a dma-buf */
	FD_CLOSED,	/* a number with no open file */
	FD_SOCKET,	/* a socket */
	FD_DEVNULL,	/* /dev/null */
	FD_EVENTFD,	/* an eventfd */
};

struct reg_case {
	const char *name;
	const char *backend;
	size_t size;
	size_t extent_size;	/* testexp */
	unsigned int mode;	/* testexp */
	bool revoke_first;	/* testexp: revoke before registering */
	enum fd_kind fd;
	uint64_t offset;
	uint64_t length;	/* 0: the buffer size minus offset ... */
	bool zero_length;	/* ... unless this says 0 means 0 */
	uint64_t iova;
	bool iova_is_offset;
	int access;
	int expect;		/* errno, or 0 for success */
	bool twice;		/* register the same range a second time */
	bool close_fd;		/* close the dma-buf fd once registered */
	bool registers;		/* vfio: BAR 0 of --vfio-registers, not BAR 2 of --vfio */
};

static const struct reg_case cases[] = {
	{ "udmabuf, whole buffer", "udmabuf", MiB, .access = RW, .iova_is_offset = true },
	{ "udmabuf of hugetlb folios", "udmabuf-huge", 4 * MiB, .access = RW, .iova_is_offset = true },
	{ "system heap", "heap", MiB, .access = RW, .iova_is_offset = true },
	{ "test exporter, 4 KiB extents", "testexp", MiB, 4 * KiB, .access = RW, .iova_is_offset = true },
	{ "test exporter, 2 MiB extents, lists only", "testexp", 4 * MiB, 2 * MiB,
	  DMA_BUF_PAL_TEST_MODE_PAL, .access = RW, .iova_is_offset = true },
	{ "test exporter offering only sg_tables: EOPNOTSUPP", "testexp", MiB, 64 * KiB,
	  DMA_BUF_PAL_TEST_MODE_SGT, .access = RW, .expect = EOPNOTSUPP },
	{ "revoked test exporter buffer: ENODEV", "testexp", MiB, 64 * KiB,
	  .revoke_first = true, .access = RW, .expect = ENODEV },
	{ "revoked test exporter buffer, on demand: ENODEV", "testexp", MiB, 64 * KiB,
	  .revoke_first = true, .access = RW | IBV_ACCESS_ON_DEMAND, .expect = ENODEV },
	{ "fd -1: EBADF", "udmabuf", MiB, .fd = FD_MINUS_ONE, .access = RW, .expect = EBADF },
	{ "memfd instead of a dma-buf: EBADF", "udmabuf", MiB, .fd = FD_MEMFD, .access = RW,
	  .expect = EBADF },
	{ "closed fd: EBADF", "udmabuf", MiB, .fd = FD_CLOSED, .access = RW, .expect = EBADF },
	{ "window inside the buffer", "testexp", MiB, 64 * KiB, .offset = 64 * KiB,
	  .length = 128 * KiB, .access = RW, .iova_is_offset = true },
	{ "window of sub-page offset and length", "udmabuf", MiB, .offset = 100,
	  .length = 1000, .iova = 100, .access = RW },
	{ "non-zero iova", "udmabuf", MiB, .iova = 0x7f0000000000ULL, .access = RW },
	{ "offset at the end: EINVAL", "udmabuf", MiB, .offset = MiB, .length = 4096,
	  .iova_is_offset = true, .access = RW, .expect = EINVAL },
	{ "window past the end: EINVAL", "udmabuf", MiB, .offset = 512 * KiB,
	  .length = 768 * KiB, .iova_is_offset = true, .access = RW, .expect = EINVAL },
	{ "offset + length overflows: EINVAL", "udmabuf", MiB, .offset = 4096,
	  .length = UINT64_MAX - 4095, .iova_is_offset = true, .access = RW, .expect = EINVAL },
	{ "length 0: EINVAL", "udmabuf", MiB, .zero_length = true, .iova_is_offset = true,
	  .access = RW, .expect = EINVAL },
	{ "page offset of iova differs from the fd offset: EINVAL", "udmabuf", MiB,
	  .offset = 4096 + 8, .length = 4096, .iova = 0, .access = RW, .expect = EINVAL },
	{ "remote write without local write: EINVAL", "udmabuf", MiB,
	  .access = IBV_ACCESS_REMOTE_WRITE, .iova_is_offset = true, .expect = EINVAL },
	{ "zero-based access: EINVAL", "udmabuf", MiB, .access = RW | IBV_ACCESS_ZERO_BASED,
	  .iova_is_offset = true, .expect = EINVAL },
	{ "hugetlb access flag: EINVAL", "udmabuf", MiB, .access = RW | IBV_ACCESS_HUGETLB,
	  .iova_is_offset = true, .expect = EINVAL },
	{ "memory-window bind access: EINVAL", "udmabuf", MiB, .access = RW | IBV_ACCESS_MW_BIND,
	  .iova_is_offset = true, .expect = EINVAL },
	{ "local read only", "udmabuf", MiB, .access = 0, .iova_is_offset = true },
	{ "remote atomics on RAM", "heap", MiB, .access = RW | IBV_ACCESS_REMOTE_ATOMIC,
	  .iova_is_offset = true },
	{ "on demand (not pinned)", "testexp", MiB, 64 * KiB,
	  .access = RW | IBV_ACCESS_ON_DEMAND, .iova_is_offset = true },
	{ "on demand, udmabuf", "udmabuf", MiB, .access = RW | IBV_ACCESS_ON_DEMAND,
	  .iova_is_offset = true },
	{ "relaxed ordering", "udmabuf", MiB, .access = RW | IBV_ACCESS_RELAXED_ORDERING,
	  .iova_is_offset = true },
	{ "socket instead of a dma-buf: EBADF", "udmabuf", MiB, .fd = FD_SOCKET, .access = RW,
	  .expect = EBADF },
	{ "/dev/null instead of a dma-buf: EBADF", "udmabuf", MiB, .fd = FD_DEVNULL,
	  .access = RW, .expect = EBADF },
	{ "eventfd instead of a dma-buf: EBADF", "udmabuf", MiB, .fd = FD_EVENTFD,
	  .access = RW, .expect = EBADF },
	{ "the last page only", "heap", MiB, .offset = MiB - 4096, .length = 4096,
	  .iova_is_offset = true, .access = RW },
	{ "window across two hugetlb folios", "udmabuf-huge", 4 * MiB,
	  .offset = 2 * MiB - 4096, .length = 8192, .iova_is_offset = true, .access = RW },
	{ "the same range twice", "testexp", MiB, 64 * KiB, .twice = true, .access = RW,
	  .iova_is_offset = true },
	{ "the same range twice, on demand", "udmabuf", MiB, .twice = true,
	  .access = RW | IBV_ACCESS_ON_DEMAND, .iova_is_offset = true },
	{ "dma-buf fd closed right after registering", "testexp", MiB, 64 * KiB,
	  .close_fd = true, .access = RW, .iova_is_offset = true },
	{ "on demand with remote atomics on RAM", "testexp", MiB, 2 * MiB,
	  .access = RW | IBV_ACCESS_REMOTE_ATOMIC | IBV_ACCESS_ON_DEMAND,
	  .iova_is_offset = true },
	{ "test exporter offering only sg_tables, on demand: EOPNOTSUPP", "testexp", MiB,
	  64 * KiB, DMA_BUF_PAL_TEST_MODE_SGT, .access = RW | IBV_ACCESS_ON_DEMAND,
	  .expect = EOPNOTSUPP },
	{ "window past the end of a test exporter buffer: EINVAL", "testexp", MiB, 64 * KiB,
	  .offset = 64 * KiB, .iova_is_offset = true, .length = MiB, .access = RW,
	  .expect = EINVAL },
};

/*
 * Cases only run with --vfio: its BAR 2 is prefetchable, so CPU-accessible
 * MMIO. With --vfio-registers, BAR 0 of that device holds registers (not
 * prefetchable): the exporter does not let the CPU touch it, so a device
 * without DMA must refuse it.
 */
static const struct reg_case vfio_cases[] = {
	{ "vfio BAR, pinned", "vfio", MiB, .access = RW, .iova_is_offset = true },
	{ "vfio BAR, on demand", "vfio", MiB, .access = RW | IBV_ACCESS_ON_DEMAND,
	  .iova_is_offset = true },
	{ "vfio BAR with remote atomics: EOPNOTSUPP", "vfio", MiB,
	  .access = RW | IBV_ACCESS_REMOTE_ATOMIC, .iova_is_offset = true, .expect = EOPNOTSUPP },
	{ "vfio BAR of registers (not prefetchable, no CPU access): EOPNOTSUPP", "vfio", MiB,
	  .access = RW, .iova_is_offset = true, .expect = EOPNOTSUPP, .registers = true },
};

static int case_fd(const struct reg_case *c, const struct pal_mem *mem, int *memfd)
{
	switch (c->fd) {
	case FD_MINUS_ONE:
		return -1;
	case FD_MEMFD:
		*memfd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
		return *memfd;
	case FD_CLOSED:
		return 1000;	/* run.sh runs us with few fds open */
	case FD_SOCKET:
		*memfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		return *memfd;
	case FD_DEVNULL:
		*memfd = open("/dev/null", O_RDWR | O_CLOEXEC);
		return *memfd;
	case FD_EVENTFD:
		*memfd = eventfd(0, EFD_CLOEXEC);
		return *memfd;
	default:
		return mem->dmabuf_fd;
	}
}

/*
 * With the MR registered, 'rdma -dd resource show mr' must show a dma-buf MR
 * imported as a list, with extents, pinned or on demand as registered.
 */
static int check_restrack(const struct reg_case *c)
{
	const char *mode = c->access & IBV_ACCESS_ON_DEMAND ? "dmabuf_mode on_demand" :
							      "dmabuf_mode pinned";
	bool path = false, extents = false, mode_ok = false;
	char line[1024];
	FILE *f;

	/* -dd: driver-specific attributes too. */
	f = popen("rdma -dd resource show mr 2>&1", "r");
	if (!f) {
		printf("# popen(rdma): %s\n", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *ext = strstr(line, "dmabuf_extents ");

		printf("# rdma: %s", line);
		if (!strstr(line, "dmabuf_path pal"))
			continue;
		path = true;
		extents |= ext && strtoul(ext + strlen("dmabuf_extents "), NULL, 0) > 0;
		mode_ok |= strstr(line, mode) != NULL;
	}
	if (pclose(f)) {
		printf("# rdma resource show mr failed\n");
		return -1;
	}
	if (!path || !extents || !mode_ok) {
		printf("# expected an MR with dmabuf_path pal, dmabuf_extents > 0, %s\n", mode);
		return -1;
	}
	return 0;
}

static bool show_restrack;
static bool no_on_demand;
static bool no_atomics;

#define TRAFFIC_BYTES 4096
#define TRAFFIC_WAIT_MS 10000

/* The requester QP and its local buffer: a pattern to WRITE, room to READ. */
static struct pal_loop loop;
static struct ibv_mr *local_mr;
static uint8_t local_buf[2 * TRAFFIC_BYTES];

/* One RDMA operation against the MR under test, and its completion. */
static int traffic_op(enum ibv_wr_opcode opcode, void *laddr, size_t len, uint64_t raddr,
		      uint32_t rkey)
{
	struct ibv_wc wc;

	if (pal_loop_post_rdma(&loop, opcode, local_mr, laddr, len, raddr, rkey, 1) ||
	    pal_loop_poll(&loop, &wc, TRAFFIC_WAIT_MS)) {
		printf("# %s: %s\n", opcode == IBV_WR_RDMA_WRITE ? "WRITE" : "READ", loop.err);
		return -1;
	}
	if (wc.status != IBV_WC_SUCCESS) {
		printf("# %s completed with %s\n", opcode == IBV_WR_RDMA_WRITE ? "WRITE" : "READ",
		       ibv_wc_status_str(wc.status));
		pal_loop_reset(&loop);
		return -1;
	}
	return 0;
}

/*
 * A registered MR must carry traffic: WRITE a pattern to its first bytes,
 * find it in the exporter's CPU view at the MR's offset, READ it back.
 */
static int check_traffic(const struct reg_case *c, const struct ibv_mr *mr,
			 const struct pal_mem *mem, uint64_t length, uint64_t iova, uint64_t seed)
{
	size_t len = length < TRAFFIC_BYTES ? (size_t)length : TRAFFIC_BYTES;
	uint8_t *src = local_buf, *dst = local_buf + TRAFFIC_BYTES;
	ssize_t bad;

	if ((c->access & RW) != RW || !len)
		return 0;
	pal_pattern_fill(src, len, seed, 0);
	memset(dst, 0, len);
	if (traffic_op(IBV_WR_RDMA_WRITE, src, len, iova, mr->rkey))
		return -1;
	bad = mem->cpu ? pal_pattern_check((const uint8_t *)mem->cpu + c->offset, len, seed, 0) :
			 -1;
	if (mem->cpu && bad >= 0) {
		printf("# WRITE of %zu bytes: byte %zd differs in the exporter's CPU view\n",
		       len, bad);
		return -1;
	}
	if (traffic_op(IBV_WR_RDMA_READ, dst, len, iova, mr->rkey))
		return -1;
	bad = pal_pattern_check(dst, len, seed, 0);
	if (bad >= 0) {
		printf("# READ of %zu bytes: byte %zd is not what was written\n", len, bad);
		return -1;
	}
	printf("# WRITE and READ of %zu bytes through the MR: bytes checked%s\n", len,
	       mem->cpu ? " in the exporter's CPU view too" : "");
	return 0;
}

/* Run one case; 0 if it behaved as expected. mem is kept for the leak check. */
static int run_case(const struct reg_case *c, struct ibv_pd *pd, struct pal_mem *mem,
		    const char *vfio)
{
	struct pal_mem_params params = {
		.size = c->size, .extent_size = c->extent_size, .mode = c->mode,
		.pci_device = vfio, .bar = c->registers ? 0 : 2,
	};
	uint64_t length, iova;
	int memfd = -1, fd, got, rc = 0, expect = c->expect;
	struct ibv_mr *mr;

	if (pal_mem_alloc(mem, pal_mem_backend(c->backend), &params)) {
		printf("# %s\n", mem->err);
		return -1;
	}
	if (c->revoke_first && pal_testexp_revoke(mem->dmabuf_fd, NULL)) {
		printf("# DMA_BUF_PAL_TEST_REVOKE: %s\n", strerror(errno));
		return -1;
	}
	length = c->length || c->zero_length ? c->length : mem->size - c->offset;
	iova = c->iova_is_offset ? c->offset : c->iova;
	fd = case_fd(c, mem, &memfd);

	errno = 0;
	mr = ibv_reg_dmabuf_mr(pd, c->offset, length, iova, fd, c->access);
	got = mr ? 0 : errno;
	if (no_atomics && (c->access & IBV_ACCESS_REMOTE_ATOMIC) && expect == EOPNOTSUPP &&
	    !strcmp(c->backend, "vfio"))
		expect = 0;
	if (no_on_demand && (c->access & IBV_ACCESS_ON_DEMAND))
		expect = EINVAL;
	printf("# ibv_reg_dmabuf_mr(offset %#llx, length %#llx, iova %#llx, access %#x) on %s -> %s\n",
	       (unsigned long long)c->offset, (unsigned long long)length,
	       (unsigned long long)iova, c->access, c->backend,
	       pal_errno_name(got) ? pal_errno_name(got) : "?");
	if (got != expect) {
		printf("# expected %s: %s\n", pal_errno_name(expect),
		       got ? strerror(got) : "it succeeded");
		rc = -1;
	} else if (mr && (mr->length != length || (uintptr_t)mr->addr != c->offset)) {
		printf("# MR reports %zu bytes at %p, expected %llu at %#llx\n",
		       mr->length, mr->addr, (unsigned long long)length,
		       (unsigned long long)c->offset);
		rc = -1;
	} else if (mr && check_traffic(c, mr, mem, length, iova, (uintptr_t)c)) {
		rc = -1;
	}
	if (mr && c->twice) {
		struct ibv_mr *again = ibv_reg_dmabuf_mr(pd, c->offset, length, iova, fd,
							 c->access);

		if (!again || ibv_dereg_mr(again)) {
			printf("# second registration of the range: %s\n", strerror(errno));
			rc = -1;
		}
	}
	if (mr && c->close_fd) {
		/* The MR holds the dma-buf: the fd is not needed any more. */
		close(mem->dmabuf_fd);
		mem->dmabuf_fd = -1;
	}
	if (mr && show_restrack && check_restrack(c))
		rc = -1;
	if (mr && ibv_dereg_mr(mr)) {
		printf("# ibv_dereg_mr: %s\n", strerror(errno));
		rc = -1;
	}
	if (memfd >= 0)
		close(memfd);
	return rc;
}

/* After all cases: no test exporter buffer may still be attached. */
static int check_no_attachment(const struct reg_case *c, const struct pal_mem *mem)
{
	struct pal_testexp_stats st;

	if (!mem->ops || strcmp(c->backend, "testexp") || mem->dmabuf_fd < 0)
		return 0;
	if (pal_testexp_stats(mem->dmabuf_fd, &st)) {
		printf("# DMA_BUF_PAL_TEST_STATS: %s\n", strerror(errno));
		return -1;
	}
	if (st.attachments || st.pal_maps || st.pins) {
		printf("# \"%s\" left %u attachment(s), %u list(s), %u pin(s)\n", c->name,
		       st.attachments, st.pal_maps, st.pins);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "vfio", required_argument, NULL, 'v' },
		{ "vfio-registers", required_argument, NULL, 'R' },
		{ "only", required_argument, NULL, 'o' },
		{ "show-restrack", no_argument, NULL, 'r' },
		{ "no-atomics", no_argument, NULL, 'a' },
		{ "no-on-demand", no_argument, NULL, 'n' },
		{ 0 }
	};
	const size_t nr = sizeof(cases) / sizeof(cases[0]);
	const size_t nr_vfio = sizeof(vfio_cases) / sizeof(vfio_cases[0]);
	const char *device = NULL, *vfio = NULL, *vfio_regs = NULL, *only = "";
	struct pal_mem mem[sizeof(cases) / sizeof(cases[0])] = { 0 };
	int c, n = 0, failed = 0;
	struct ibv_pd *pd;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': device = optarg; break;
		case 'v': vfio = optarg; break;
		case 'R': vfio_regs = optarg; break;
		case 'o': only = optarg; break;
		case 'r': show_restrack = true; break;
		case 'n': no_on_demand = true; break;
		case 'a': no_atomics = true; break;
		default: return 2;
		}
	}
	if (!device) {
		fprintf(stderr, "usage: %s --device NAME [--vfio BDF [--vfio-registers BDF]] [--only TEXT]\n", argv[0]);
		return 2;
	}
	/* The MRs under test and the requester's buffer share the loop's PD. */
	if (pal_loop_open(&loop, device, 4)) {
		fprintf(stderr, "%s: %s\n", device, loop.err);
		return 1;
	}
	pd = loop.pd;
	local_mr = ibv_reg_mr(pd, local_buf, sizeof(local_buf), IBV_ACCESS_LOCAL_WRITE);
	if (!local_mr) {
		perror("ibv_reg_mr of the requester's buffer");
		return 1;
	}
	for (size_t i = 0; i < nr; i++) {
		if (!strstr(cases[i].name, only))
			continue;
		n++;
		if (run_case(&cases[i], pd, &mem[i], NULL)) {
			failed++;
			printf("not ok %d - %s\n", n, cases[i].name);
		} else {
			printf("ok %d - %s\n", n, cases[i].name);
		}
	}
	for (size_t i = 0; vfio && i < nr_vfio; i++) {
		struct pal_mem bar = { 0 };

		if (!strstr(vfio_cases[i].name, only) || (vfio_cases[i].registers && !vfio_regs))
			continue;
		n++;
		if (run_case(&vfio_cases[i], pd, &bar,
			     vfio_cases[i].registers ? vfio_regs : vfio)) {
			failed++;
			printf("not ok %d - %s\n", n, vfio_cases[i].name);
		} else {
			printf("ok %d - %s\n", n, vfio_cases[i].name);
		}
		pal_mem_free(&bar);
	}
	/* A selection that matches nothing is a renamed or lost case. */
	if (!n) {
		printf("not ok 1 - --only \"%s\" matches no case\n", only);
		return 1;
	}
	n++;
	c = 0;
	for (size_t i = 0; i < nr; i++)
		c |= check_no_attachment(&cases[i], &mem[i]);
	printf("%s %d - no test exporter buffer left attached or mapped\n",
	       c ? "not ok" : "ok", n);
	failed += !!c;
	for (size_t i = 0; i < nr; i++)
		pal_mem_free(&mem[i]);
	ibv_dereg_mr(local_mr);
	pal_loop_close(&loop);
	printf("# %d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
