// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Error paths of dma-buf MR registration and import, proven by fault
 * injection: each operation is run with the kernel made to fail its N-th
 * fault-injectable call (slab or page allocation) in this thread, for
 * N = 1, 2, ... until the operation runs to completion without reaching
 * an N-th call (/proc/thread-self/fail-nth, which counts only this
 * thread's calls).
 *
 *   dmabuf_faults --op OP [--device IBDEV] [--pci BDF] [--vfio BDF]
 *                 [--max-n N] [--verbose]
 *
 * OP is one of
 *   reg        ibv_reg_dmabuf_mr, pinned, of every exporter
 *   reg-odp    ibv_reg_dmabuf_mr with IBV_ACCESS_ON_DEMAND, test exporter
 *   import     /dev/ib_umem_import_test list import for the DMA device
 *              --pci, in each mode (revocable, pinned, dynamic), of every
 *              exporter of RAM
 *   move       DMA_BUF_PAL_TEST_MOVE of a buffer with an on-demand MR and
 *              a held dynamic import
 *   revoke     DMA_BUF_PAL_TEST_REVOKE of a buffer with a pinned MR and a
 *              held revocable import
 *   dereg      ibv_dereg_mr of a pinned and of an on-demand MR
 *
 * Every injected failure must give ENOMEM (the only error an allocation
 * failure may turn into on these paths) and leave nothing behind: after
 * the step is undone, the test exporter reports no attachment, mapping or
 * pin, and the number of dma-bufs in /sys/kernel/debug/dma_buf/bufinfo is
 * back to what it was. A failed move or revoke must leave the buffer as it
 * was (no move counted, not revoked) and the next one must succeed; a
 * failed deregistration must succeed when called again. The operation
 * must fail at least once, or nothing was injected. Prints, per exporter
 * and mode, the number of failure points hit. kmemleak, which the guest
 * suite scans after this, finds what these checks cannot. --verbose leaves
 * a stack in the kernel log for every injected failure.
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

#include <infiniband/verbs.h>
#include <umem_import_test_uapi.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/mem.h>
#include <rdma_pal/testexp.h>

#define BUF_SIZE (256 << 10)

struct faults_opts {
	const char *op;
	const char *device;
	const char *pci;
	const char *vfio;
	unsigned int max_n;
	bool verbose;
};

/* One case: an exporter, the import mode or the MR kind, and its name. */
struct fault_case {
	const char *backend;
	uint32_t import_flags;	/* import: IB_UMEM_IMPORT_TEST_* of the mode */
	bool on_demand;		/* reg, dereg: an on-demand MR */
	const char *mode;
};

/* What one case sets up before the operation and tears down after it. */
struct fault_state {
	struct pal_mem mem;
	bool mem_ok;
	struct ibv_mr *mr;
	int import_fd;		/* /dev/ib_umem_import_test holding an import */
};

static struct ibv_pd *pd;
static int failures;

static void fail(const char *fmt, const char *a, const char *b, unsigned int n, int err)
{
	printf("FAIL: %s %s at N=%u: ", a, b, n);
	printf(fmt, pal_errno_name(err) ? pal_errno_name(err) : "?");
	putchar('\n');
	failures++;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * fail-nth bypasses the attributes' probability and task filter, but not
 * their GFP filters: make sleeping allocations and order-0 pages
 * injectable, and keep the kernel log free of a stack per injection.
 */
static int faults_setup(bool verbose)
{
	static const char *const dirs[] = {
		"/sys/kernel/debug/failslab", "/sys/kernel/debug/fail_page_alloc",
	};
	char path[128];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/ignore-gfp-wait", dirs[i]);
		if (write_file(path, "N"))
			goto err;
		snprintf(path, sizeof(path), "%s/verbose", dirs[i]);
		if (write_file(path, verbose ? "2" : "0"))
			goto err;
	}
	snprintf(path, sizeof(path), "%s/min-order", dirs[1]);
	if (write_file(path, "0"))
		goto err;
	return 0;
err:
	perror(path);
	return -1;
}

static int fail_nth_fd = -1;

/* Make this thread's n-th fault-injectable call fail. */
static int inject(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fail_nth_fd, buf, len, 0) == len ? 0 : -1;
}

/* Stop injecting; whether the n-th call was reached (and failed). */
static bool injected(void)
{
	char buf[16] = "";
	bool hit;

	if (pread(fail_nth_fd, buf, sizeof(buf) - 1, 0) <= 0)
		return false;
	hit = atoi(buf) == 0;
	if (!hit && pwrite(fail_nth_fd, "0", 1, 0) != 1)
		perror("fail-nth");
	return hit;
}

/* Dma-bufs alive in the system, from bufinfo's last line. */
static int dmabuf_count(void)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
	char line[256];
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "Total %d objects", &n);
	fclose(f);
	return n;
}

static int mem_create(struct fault_state *st, const char *backend, const struct faults_opts *o)
{
	struct pal_mem_params params = { .size = BUF_SIZE, .extent_size = 64 << 10,
					 .shuffle = true, .seed = 7 };

	if (!strcmp(backend, "vfio")) {
		params.pci_device = o->vfio;
		params.bar = 2;
	}
	if (pal_mem_alloc(&st->mem, pal_mem_backend(backend), &params)) {
		printf("FAIL: %s: %s\n", backend, st->mem.err);
		return -1;
	}
	st->mem_ok = true;
	return 0;
}

static struct ibv_mr *reg(struct fault_state *st, bool odp)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;

	if (odp)
		access |= IBV_ACCESS_ON_DEMAND;
	return ibv_reg_dmabuf_mr(pd, 0, st->mem.size, 0, st->mem.dmabuf_fd, access);
}

static int import_ioctl(int devfd, int fd, const char *pci, uint32_t flags)
{
	struct ib_umem_import_test a = { .fd = fd, .flags = flags, .length = BUF_SIZE };

	snprintf(a.pci_dev, sizeof(a.pci_dev), "%s", pci);
	return ioctl(devfd, IB_UMEM_IMPORT_TEST_IMPORT, &a) ? errno : 0;
}

static int import_hold(struct fault_state *st, const struct faults_opts *o, uint32_t flags)
{
	int err;

	st->import_fd = open("/dev/ib_umem_import_test", O_RDWR | O_CLOEXEC);
	if (st->import_fd < 0)
		return errno;
	err = import_ioctl(st->import_fd, st->mem.dmabuf_fd, o->pci,
			   flags | IB_UMEM_IMPORT_TEST_PAL | IB_UMEM_IMPORT_TEST_HOLD);
	if (err) {
		close(st->import_fd);
		st->import_fd = -1;
	}
	return err;
}

/* What must be set up before the operation of fc; 0 or an errno. */
static int prepare(struct fault_state *st, const struct faults_opts *o,
		   const struct fault_case *fc)
{
	int err = 0;

	*st = (struct fault_state){ .import_fd = -1 };
	if (mem_create(st, fc->backend, o))
		return EIO;
	if (!strcmp(o->op, "move")) {
		st->mr = reg(st, true);
		err = st->mr ? import_hold(st, o, IB_UMEM_IMPORT_TEST_DYNAMIC) : errno;
	} else if (!strcmp(o->op, "revoke")) {
		st->mr = reg(st, false);
		err = st->mr ? import_hold(st, o, 0) : errno;
	} else if (!strcmp(o->op, "dereg")) {
		st->mr = reg(st, fc->on_demand);
		err = st->mr ? 0 : errno;
	}
	return err;
}

/* The operation; 0 or its errno. */
static int operate(struct fault_state *st, const struct faults_opts *o,
		   const struct fault_case *fc)
{
	uint32_t live = 0;
	int devfd, err;

	if (!strcmp(o->op, "reg") || !strcmp(o->op, "reg-odp")) {
		st->mr = reg(st, fc->on_demand);
		return st->mr ? 0 : errno;
	}
	if (!strcmp(o->op, "import")) {
		devfd = open("/dev/ib_umem_import_test", O_RDWR | O_CLOEXEC);
		if (devfd < 0)
			return errno;
		err = import_ioctl(devfd, st->mem.dmabuf_fd, o->pci,
				   fc->import_flags | IB_UMEM_IMPORT_TEST_PAL);
		close(devfd);
		return err;
	}
	if (!strcmp(o->op, "move"))
		return pal_testexp_move(st->mem.dmabuf_fd, &live) ? errno : 0;
	if (!strcmp(o->op, "revoke"))
		return pal_testexp_revoke(st->mem.dmabuf_fd, &live) ? errno : 0;
	err = ibv_dereg_mr(st->mr);
	if (!err)
		st->mr = NULL;
	return err;
}

/*
 * After a failed move or revoke the buffer is as it was, and the
 * operation succeeds when asked again; a failed deregistration succeeds
 * when called again.
 */
static int check_after_failure(struct fault_state *st, const struct faults_opts *o)
{
	struct pal_testexp_stats s;
	uint32_t live = 0;

	if (!strcmp(o->op, "move") || !strcmp(o->op, "revoke")) {
		if (pal_testexp_stats(st->mem.dmabuf_fd, &s))
			return errno;
		if (s.moves || s.revoked) {
			printf("  the failed %s left moves %u, revoked %u\n", o->op, s.moves,
			       s.revoked);
			return EPROTO;
		}
		if (!strcmp(o->op, "move") ? pal_testexp_move(st->mem.dmabuf_fd, &live) :
					     pal_testexp_revoke(st->mem.dmabuf_fd, &live)) {
			printf("  %s again: %s\n", o->op, strerror(errno));
			return errno;
		}
	}
	if (!strcmp(o->op, "dereg") && st->mr) {
		if (ibv_dereg_mr(st->mr)) {
			printf("  dereg again: %s\n", strerror(errno));
			return errno;
		}
		st->mr = NULL;
	}
	return 0;
}

/* Undo the case; the exporter must then hold nothing for importers. */
static int teardown(struct fault_state *st)
{
	struct pal_testexp_stats s;
	int err = 0;

	if (st->mr && ibv_dereg_mr(st->mr))
		err = errno;
	if (st->import_fd >= 0)
		close(st->import_fd);
	if (st->mem_ok && st->mem.ops == &pal_mem_testexp_ops) {
		if (pal_testexp_stats(st->mem.dmabuf_fd, &s))
			err = errno;
		else if (s.attachments || s.pal_maps || s.sgt_maps || s.pins) {
			printf("  left behind: %u attachment(s), %u list and %u sg_table "
			       "mapping(s), %u pin(s)\n", s.attachments, s.pal_maps, s.sgt_maps,
			       s.pins);
			err = EPROTO;
		}
	}
	if (st->mem_ok)
		pal_mem_free(&st->mem);
	return err;
}

/* One case, N = 1, 2, ...; 0 if every step behaved. */
static int run_case(const struct faults_opts *o, const struct fault_case *fc)
{
	unsigned int points = 0, absorbed = 0, n;
	int before = dmabuf_count();
	struct fault_state st;
	int err, check, after;
	bool hit;

	if (before < 0) {
		perror("bufinfo");
		return -1;
	}
	for (n = 1; n <= o->max_n; n++) {
		err = prepare(&st, o, fc);
		if (err) {
			fail("setup without injection gave %s", fc->backend, fc->mode, n, err);
			teardown(&st);
			return -1;
		}
		if (inject(n)) {
			perror("fail-nth");
			teardown(&st);
			return -1;
		}
		err = operate(&st, o, fc);
		hit = injected();
		if (err && !hit)
			fail("failed without an injected failure: %s", fc->backend, fc->mode, n,
			     err);
		else if (err && err != ENOMEM)
			fail("an allocation failure became %s, not ENOMEM", fc->backend, fc->mode,
			     n, err);
		else if (err && (check = check_after_failure(&st, o)))
			fail("not as before the failure: %s", fc->backend, fc->mode, n, check);
		points += hit && err;
		absorbed += hit && !err;
		check = teardown(&st);
		after = dmabuf_count();
		if (check)
			fail("teardown: %s", fc->backend, fc->mode, n, check);
		if (after != before) {
			printf("FAIL: %s %s at N=%u: %d dma-buf(s) alive, %d before\n",
			       fc->backend, fc->mode, n, after, before);
			failures++;
		}
		if (failures)
			return -1;
		if (!hit)
			break;
	}
	if (n > o->max_n) {
		printf("FAIL: %s %s: still reaching call %u\n", fc->backend, fc->mode, o->max_n);
		failures++;
		return -1;
	}
	printf("%s %s %s: %u failure point(s) gave ENOMEM and left nothing behind, "
	       "%u absorbed; completes with %u injectable call(s)\n",
	       o->op, fc->backend, fc->mode, points, absorbed, n - 1);
	/* Every path here allocates; no failure at all means no injection. */
	if (!points && strcmp(o->op, "revoke") && strcmp(o->op, "dereg")) {
		printf("FAIL: %s %s: no injected failure reached the caller\n", fc->backend,
		       fc->mode);
		failures++;
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dmabuf_faults --op reg|reg-odp|import|move|revoke|dereg "
			"[--device IBDEV] [--pci BDF] [--vfio BDF] [--max-n N] [--verbose]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "op", required_argument, NULL, 'o' },
		{ "device", required_argument, NULL, 'd' },
		{ "pci", required_argument, NULL, 'p' },
		{ "vfio", required_argument, NULL, 'v' },
		{ "max-n", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'V' },
		{}
	};
	static const struct fault_case reg_cases[] = {
		{ "udmabuf", 0, false, "pinned" }, { "heap", 0, false, "pinned" },
		{ "testexp", 0, false, "pinned" }, { "vfio", 0, false, "pinned" },
	};
	static const struct fault_case odp_cases[] = {
		{ "testexp", 0, true, "on-demand" },
	};
	static const struct fault_case import_cases[] = {
		{ "testexp", 0, false, "revocable" },
		{ "testexp", IB_UMEM_IMPORT_TEST_PINNED, false, "pinned" },
		{ "testexp", IB_UMEM_IMPORT_TEST_DYNAMIC, false, "dynamic" },
		{ "udmabuf", 0, false, "revocable" },
		{ "udmabuf", IB_UMEM_IMPORT_TEST_PINNED, false, "pinned" },
		{ "udmabuf", IB_UMEM_IMPORT_TEST_DYNAMIC, false, "dynamic" },
		{ "heap", 0, false, "revocable" },
		{ "heap", IB_UMEM_IMPORT_TEST_PINNED, false, "pinned" },
		{ "heap", IB_UMEM_IMPORT_TEST_DYNAMIC, false, "dynamic" },
	};
	static const struct fault_case testexp_cases[] = { { "testexp", 0, false, "-" } };
	static const struct fault_case dereg_cases[] = {
		{ "testexp", 0, false, "pinned" }, { "testexp", 0, true, "on-demand" },
	};
	struct faults_opts o = { .device = "rxe_a", .max_n = 2000 };
	const struct fault_case *cases;
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	size_t nr_cases;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.op = optarg; break;
		case 'd': o.device = optarg; break;
		case 'p': o.pci = optarg; break;
		case 'v': o.vfio = optarg; break;
		case 'n': o.max_n = strtoul(optarg, NULL, 0); break;
		case 'V': o.verbose = true; break;
		default: usage(); return 2;
		}
	}
	if (!o.op) {
		usage();
		return 2;
	}
#define CASES(a) (cases = (a), nr_cases = sizeof(a) / sizeof((a)[0]))
	if (!strcmp(o.op, "reg"))
		CASES(reg_cases), nr_cases -= !o.vfio;
	else if (!strcmp(o.op, "reg-odp"))
		CASES(odp_cases);
	else if (!strcmp(o.op, "import"))
		CASES(import_cases);
	else if (!strcmp(o.op, "move") || !strcmp(o.op, "revoke"))
		CASES(testexp_cases);
	else if (!strcmp(o.op, "dereg"))
		CASES(dereg_cases);
	else {
		usage();
		return 2;
	}
	if (!o.pci && (!strcmp(o.op, "import") || !strcmp(o.op, "move") ||
		       !strcmp(o.op, "revoke"))) {
		fprintf(stderr, "--op %s needs --pci\n", o.op);
		return 2;
	}

	list = ibv_get_device_list(NULL);
	for (int i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), o.device))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	if (!pd) {
		fprintf(stderr, "%s: no such device, or no PD\n", o.device);
		return 1;
	}
	if (faults_setup(o.verbose))
		return 1;
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (fail_nth_fd < 0) {
		perror("/proc/thread-self/fail-nth");
		return 1;
	}
	for (size_t i = 0; i < nr_cases; i++)
		if (run_case(&o, &cases[i]))
			break;
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	printf("%s\n", failures ? "FAILED" : "PASS");
	return failures ? 1 : 0;
}
