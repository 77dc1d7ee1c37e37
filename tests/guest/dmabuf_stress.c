// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Seeded random-operation stress of dma-buf MRs, checked against a model.
 *
 *   dmabuf_stress --device DEV --ops N [--seed S] [--vfio BDF]
 *                 [--no-on-demand] [--no-atomics]
 *
 * A generator seeded with S (default: from the clock; always printed)
 * draws N operations on up to MAX_BUFS buffers and MAX_MRS MRs:
 *
 *   create    a buffer from udmabuf, the system heap, the test exporter
 *             (random size, extent size, order and offered mappings) or,
 *             with --vfio, BAR 2 of that vfio-pci device (MMIO; one at a
 *             time, since its group opens once)
 *   reg       ibv_reg_dmabuf_mr() with valid or deliberately invalid
 *             arguments (window, length, overflow, page offset, fd, flags)
 *   traffic   RDMA WRITE of a fresh pattern into a window of an MR and READ
 *             back, over two RC QPs on DEV connected to each other
 *   move      move a test exporter buffer
 *   revoke    revoke a test exporter buffer, then poison it
 *   dereg     deregister an MR
 *   drop      drop every user reference to a buffer (dma-buf fd and CPU
 *             view) while its MRs live on; for a vfio BAR this closes the
 *             device, which revokes its dma-bufs
 *   stats     compare the test exporter's counters with the model
 *
 * The model predicts every result: the errno of each registration, whether
 * a move succeeds or gets EBUSY/ENODEV, whether traffic succeeds (and then
 * that READ returns what WRITE wrote and the exporter's CPU view agrees) or
 * fails (revoked buffer: the poison must be intact afterwards), and how
 * many importers each test exporter buffer has. The first disagreement
 * stops the run; it prints the seed, the operation's index and the last
 * operations, so "--seed S --ops N" replays the same sequence.
 *
 * What the device does not have is said, not guessed: --no-on-demand (no
 * on-demand dma-buf MRs, as on siw) registers every MR pinned;
 * --no-atomics (siw) drops the case that expects remote atomic access to
 * MMIO to be refused, since such a device accepts the flag on any MR and
 * never performs an atomic.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dma-buf-pal-test-uapi.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/loop.h>
#include <rdma_pal/mem.h>
#include <rdma_pal/pattern.h>
#include <rdma_pal/testexp.h>

#define MAX_BUFS 6
#define MAX_MRS 16
#define MAX_WINDOW (16 << 10)
#define PAGE 4096UL
#define POISON 0xc3
#define POLL_MS 30000
#define TRACE 16

#define RW (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ)

struct sbuf {
	bool used;
	bool dropped;		/* no fd or CPU view left; MRs keep it alive */
	bool revoked;
	bool testexp;
	bool vfio;
	unsigned int mode;	/* DMA_BUF_PAL_TEST_MODE_* (testexp) */
	struct pal_mem mem;
	unsigned int nr_mrs;
	unsigned int nr_pinned;
};

struct smr {
	bool used;
	unsigned int buf;
	struct ibv_mr *mr;
	size_t offset;		/* in the buffer */
	uint64_t iova;		/* of the MR's first byte */
	size_t len;
	bool on_demand;
};

enum op {
	OP_CREATE, OP_REG, OP_TRAFFIC, OP_MOVE, OP_REVOKE, OP_DEREG, OP_DROP,
	OP_STATS, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"create", "reg", "traffic", "move", "revoke", "dereg", "drop", "stats",
};

/* Relative frequencies of the operations. */
static const unsigned int op_weight[NR_OPS] = { 6, 24, 30, 8, 2, 14, 3, 5 };

struct stress {
	const char *vfio_bdf;	/* ivshmem bound to vfio-pci, or NULL */
	bool no_on_demand;
	bool no_atomics;
	uint64_t seed;
	uint64_t rng;
	unsigned long op_index;
	struct pal_loop loop;
	struct ibv_mr *local;
	uint8_t *src, *dst;
	struct sbuf bufs[MAX_BUFS];
	struct smr mrs[MAX_MRS];
	char trace[TRACE][160];
	unsigned long done[NR_OPS];
	unsigned long reg_errno[4];	/* 0, EINVAL/EBADF, ENODEV, EOPNOTSUPP */
	unsigned long traffic_failed;
	unsigned long created[5];	/* per entry of op_create()'s backends */
};

static uint64_t next_rand(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

static size_t rand_below(struct stress *s, size_t n)
{
	return n ? next_rand(&s->rng) % n : 0;
}

static void note(struct stress *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Remember what the current operation is, for the failure report. */
static void note(struct stress *s, const char *fmt, ...)
{
	char *line = s->trace[s->op_index % TRACE];
	int n;
	va_list ap;

	n = snprintf(line, sizeof(s->trace[0]), "op %lu: ", s->op_index);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(s->trace[0]) - n, fmt, ap);
	va_end(ap);
}

static int fail(struct stress *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct stress *s, const char *fmt, ...)
{
	unsigned long i, first;
	va_list ap;

	fprintf(stderr, "FAIL at op %lu (seed %" PRIu64 "): ", s->op_index, s->seed);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	first = s->op_index >= TRACE - 1 ? s->op_index - (TRACE - 1) : 0;
	fprintf(stderr, "last operations:\n");
	for (i = first; i <= s->op_index; i++)
		fprintf(stderr, "  %s\n", s->trace[i % TRACE]);
	fprintf(stderr, "replay: dmabuf_stress --seed %" PRIu64 " --ops %lu%s%s\n", s->seed,
		s->op_index + 1, s->vfio_bdf ? " --vfio " : "", s->vfio_bdf ? s->vfio_bdf : "");
	return -1;
}

static int pick_buf(struct stress *s, bool (*ok)(const struct sbuf *))
{
	int candidates[MAX_BUFS], n = 0, i;

	for (i = 0; i < MAX_BUFS; i++)
		if (s->bufs[i].used && ok(&s->bufs[i]))
			candidates[n++] = i;
	return n ? candidates[rand_below(s, n)] : -1;
}

static int pick_mr(struct stress *s)
{
	int candidates[MAX_MRS], n = 0, i;

	for (i = 0; i < MAX_MRS; i++)
		if (s->mrs[i].used)
			candidates[n++] = i;
	return n ? candidates[rand_below(s, n)] : -1;
}

static bool has_fd(const struct sbuf *b) { return !b->dropped; }
static bool live_testexp(const struct sbuf *b) { return !b->dropped && b->testexp; }

static void free_buf(struct sbuf *b)
{
	pal_mem_free(&b->mem);
	memset(b, 0, sizeof(*b));
}

/* A vfio BAR can be created when no buffer holds the device open. */
static bool vfio_free_to_open(const struct stress *s)
{
	int i;

	if (!s->vfio_bdf)
		return false;
	for (i = 0; i < MAX_BUFS; i++)
		if (s->bufs[i].used && s->bufs[i].vfio && !s->bufs[i].dropped)
			return false;
	return true;
}

static int op_create(struct stress *s)
{
	static const char *const backends[] = { "udmabuf", "heap", "testexp", "testexp", "vfio" };
	static const unsigned int modes[] = { DMA_BUF_PAL_TEST_MODE_BOTH,
					      DMA_BUF_PAL_TEST_MODE_PAL,
					      DMA_BUF_PAL_TEST_MODE_SGT };
	struct pal_mem_params params = { 0 };
	const char *backend;
	struct sbuf *b = NULL;
	int i;

	for (i = 0; i < MAX_BUFS && !b; i++)
		if (!s->bufs[i].used)
			b = &s->bufs[i];
	if (!b)
		return 0;
	i = (int)rand_below(s, vfio_free_to_open(s) ? 5 : 4);
	backend = backends[i];
	s->created[i]++;
	params.size = (1 + rand_below(s, 64)) * PAGE;
	b->testexp = !strcmp(backend, "testexp");
	b->vfio = !strcmp(backend, "vfio");
	if (b->testexp) {
		params.extent_size = PAGE << (2 * rand_below(s, 3));	/* 4, 16, 64 KiB */
		b->mode = modes[rand_below(s, 3)];
		params.mode = b->mode;
		params.shuffle = rand_below(s, 2);
		params.seed = next_rand(&s->rng) | 1;
	}
	if (b->vfio) {
		params.pci_device = s->vfio_bdf;
		params.bar = 2;
	}
	note(s, "create %s of %zu bytes, extent %zu, mode %u", backend, params.size,
	     params.extent_size, b->mode);
	if (pal_mem_alloc(&b->mem, pal_mem_backend(backend), &params))
		return fail(s, "creating a %s buffer: %s", backend, b->mem.err);
	b->used = true;
	/* Known contents, so moves can be checked. */
	pal_pattern_fill(b->mem.cpu, b->mem.size, s->op_index, 0);
	return 0;
}

/* One registration case: its arguments and the errno the model predicts. */
struct reg_case {
	const char *what;
	uint64_t offset, len, iova;
	int fd, access;
	int expect;
};

static void make_reg_case(struct stress *s, const struct sbuf *b, struct reg_case *c)
{
	size_t size = b->mem.size;
	uint64_t off = rand_below(s, size / PAGE) * PAGE;
	uint64_t len = (1 + rand_below(s, (size - off) / PAGE)) * PAGE;
	int on_demand = rand_below(s, 2) && !s->no_on_demand ? IBV_ACCESS_ON_DEMAND : 0;
	/* rxe refuses an sg_table-only exporter at attach, before any map. */
	int valid_errno = b->testexp && b->mode == DMA_BUF_PAL_TEST_MODE_SGT ?
			  EOPNOTSUPP : b->revoked ? ENODEV : 0;

	*c = (struct reg_case){ "valid window", off, len, off, b->mem.dmabuf_fd,
				RW | on_demand, valid_errno };
	/* The CPU cannot make atomics atomic towards MMIO: rxe refuses them. */
	if (b->vfio && !rand_below(s, 4) && !s->no_atomics) {
		c->what = "remote atomics on MMIO";
		c->access |= IBV_ACCESS_REMOTE_ATOMIC;
		c->expect = EOPNOTSUPP;
	}
	switch (rand_below(s, 16)) {
	case 0:
		c->what = "offset at the end";
		c->offset = c->iova = size;
		c->len = PAGE;
		c->expect = EINVAL;
		break;
	case 1:
		c->what = "window past the end";
		c->len = size - off + PAGE;
		c->expect = EINVAL;
		break;
	case 2:
		c->what = "length 0";
		c->len = 0;
		c->expect = EINVAL;
		break;
	case 3:
		c->what = "offset + length overflows";
		c->len = UINT64_MAX - PAGE + 1;
		c->expect = EINVAL;
		break;
	case 4:
		c->what = "iova page offset differs from the offset's";
		c->iova = off + 128;
		c->expect = EINVAL;
		break;
	case 5:
		c->what = "fd -1";
		c->fd = -1;
		c->expect = EBADF;
		break;
	case 6:
		c->what = "remote write without local write";
		c->access = IBV_ACCESS_REMOTE_WRITE | on_demand;
		c->expect = EINVAL;
		break;
	case 7:
		c->what = "sub-page window";
		c->offset = off + 100;
		c->iova = 0x10000000ULL + c->offset;
		c->len = len - 200;
		break;
	default:
		break;
	}
}

static int reg_errno_class(int err)
{
	switch (err) {
	case 0: return 0;
	case ENODEV: return 2;
	case EOPNOTSUPP: return 3;
	default: return 1;
	}
}

static int op_reg(struct stress *s)
{
	struct smr *m = NULL;
	struct reg_case c;
	struct ibv_mr *mr;
	struct sbuf *b;
	int i, bi, got;

	for (i = 0; i < MAX_MRS && !m; i++)
		if (!s->mrs[i].used)
			m = &s->mrs[i];
	bi = pick_buf(s, has_fd);
	if (!m || bi < 0)
		return 0;
	b = &s->bufs[bi];
	make_reg_case(s, b, &c);
	note(s, "reg buf %d (%s%s), %s: offset %" PRIu64 " len %" PRIu64 " iova 0x%" PRIx64
	     " access 0x%x, expect %s", bi, b->mem.ops->name, b->revoked ? ", revoked" : "",
	     c.what, c.offset, c.len, c.iova, c.access, pal_errno_name(c.expect));
	mr = ibv_reg_dmabuf_mr(s->loop.pd, c.offset, c.len, c.iova, c.fd, c.access);
	got = mr ? 0 : errno;
	s->reg_errno[reg_errno_class(got)]++;
	if (got != c.expect) {
		if (mr)
			ibv_dereg_mr(mr);
		return fail(s, "registration (%s) gave %s, expected %s", c.what,
			    pal_errno_name(got), pal_errno_name(c.expect));
	}
	if (!mr)
		return 0;
	*m = (struct smr){ .used = true, .buf = bi, .mr = mr, .offset = c.offset,
			   .iova = c.iova, .len = c.len, .on_demand = c.access & IBV_ACCESS_ON_DEMAND };
	b->nr_mrs++;
	if (!m->on_demand)
		b->nr_pinned++;
	return 0;
}

static bool poisoned(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != POISON)
			return false;
	return true;
}

/* WRITE then READ a window of an MR; both succeed unless it was revoked. */
static int op_traffic(struct stress *s)
{
	struct ibv_wc wc;
	struct smr *m;
	struct sbuf *b;
	size_t off, len;
	uint64_t iova, seed = next_rand(&s->rng);
	int mi = pick_mr(s), pass;

	if (mi < 0)
		return 0;
	m = &s->mrs[mi];
	b = &s->bufs[m->buf];
	off = rand_below(s, m->len);
	len = 1 + rand_below(s, m->len - off < MAX_WINDOW ? m->len - off : MAX_WINDOW);
	/* Not mr->addr: libibverbs puts the dma-buf offset there. */
	iova = m->iova + off;
	note(s, "traffic on MR %d (buf %d %s%s%s): [%zu, +%zu) of the MR", mi, m->buf,
	     b->mem.ops ? b->mem.ops->name : "dropped", b->revoked ? ", revoked" : "",
	     m->on_demand ? ", on demand" : "", off, len);
	pal_pattern_fill(s->src, len, seed, 0);
	memset(s->dst, 0, len);
	for (pass = 0; pass < 2; pass++) {
		if (pal_loop_post_rdma(&s->loop, pass ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE,
				       s->local, pass ? s->dst : s->src, len, iova,
				       m->mr->rkey, s->op_index * 2 + pass))
			return fail(s, "%s", s->loop.err);
		if (pal_loop_poll(&s->loop, &wc, POLL_MS))
			return fail(s, "%s", s->loop.err);
		if (wc.wr_id != s->op_index * 2 + pass)
			return fail(s, "completion of request %" PRIu64 " where %lu was due",
				    (uint64_t)wc.wr_id, s->op_index * 2 + pass);
		if (wc.status != IBV_WC_SUCCESS)
			break;
	}
	if (b->revoked) {
		if (pass == 2)
			return fail(s, "traffic on a revoked buffer succeeded");
		s->traffic_failed++;
		if (pal_loop_reset(&s->loop))
			return fail(s, "%s", s->loop.err);
		if (!b->dropped && !poisoned((uint8_t *)b->mem.cpu + m->offset + off, len))
			return fail(s, "the poison of a revoked buffer changed");
		return 0;
	}
	if (pass != 2)
		return fail(s, "%s failed with %s on a valid MR", pass ? "READ" : "WRITE",
			    ibv_wc_status_str(wc.status));
	if (memcmp(s->src, s->dst, len))
		return fail(s, "READ did not return what WRITE wrote");
	if (!b->dropped &&
	    pal_pattern_check((uint8_t *)b->mem.cpu + m->offset + off, len, seed, 0) >= 0)
		return fail(s, "the exporter's CPU view does not show what WRITE wrote");
	return 0;
}

static uint64_t checksum(const struct sbuf *b)
{
	const uint64_t *p = b->mem.cpu;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < b->mem.size / 8; i++)
		sum = (sum ^ p[i]) * 0x100000001b3ULL;
	return sum;
}

static int op_move(struct stress *s)
{
	int bi = pick_buf(s, live_testexp), expect;
	uint64_t before;
	uint32_t live;
	struct sbuf *b;

	if (bi < 0)
		return 0;
	b = &s->bufs[bi];
	expect = b->revoked ? ENODEV : b->nr_pinned ? EBUSY : 0;
	note(s, "move buf %d (%u MRs, %u pinned%s), expect %s", bi, b->nr_mrs, b->nr_pinned,
	     b->revoked ? ", revoked" : "", pal_errno_name(expect));
	before = checksum(b);
	if ((pal_testexp_move(b->mem.dmabuf_fd, &live) ? errno : 0) != expect)
		return fail(s, "move gave %s, expected %s", pal_errno_name(errno),
			    pal_errno_name(expect));
	if (!expect && live)
		return fail(s, "%u mapping(s) held across the move", live);
	if (checksum(b) != before)
		return fail(s, "the buffer's contents changed in the move");
	return 0;
}

static int op_revoke(struct stress *s)
{
	int bi = pick_buf(s, live_testexp), expect;
	uint32_t live;
	struct sbuf *b;

	if (bi < 0)
		return 0;
	b = &s->bufs[bi];
	expect = b->revoked ? ENODEV : 0;
	note(s, "revoke buf %d (%u MRs), expect %s", bi, b->nr_mrs, pal_errno_name(expect));
	if ((pal_testexp_revoke(b->mem.dmabuf_fd, &live) ? errno : 0) != expect)
		return fail(s, "revoke gave %s, expected %s", pal_errno_name(errno),
			    pal_errno_name(expect));
	if (expect)
		return 0;
	if (live)
		return fail(s, "%u mapping(s) held after the revoke", live);
	b->revoked = true;
	memset(b->mem.cpu, POISON, b->mem.size);
	return 0;
}

static int op_dereg(struct stress *s)
{
	int mi = pick_mr(s);
	struct smr *m;
	struct sbuf *b;

	if (mi < 0)
		return 0;
	m = &s->mrs[mi];
	b = &s->bufs[m->buf];
	note(s, "dereg MR %d (buf %d)", mi, m->buf);
	if (ibv_dereg_mr(m->mr))
		return fail(s, "ibv_dereg_mr: %s", pal_errno_name(errno));
	b->nr_mrs--;
	if (!m->on_demand)
		b->nr_pinned--;
	memset(m, 0, sizeof(*m));
	if (b->dropped && !b->nr_mrs)
		memset(b, 0, sizeof(*b));	/* the last reference is gone */
	return 0;
}

/* Compare a test exporter's counters with the model. */
static int check_stats(struct stress *s, int bi)
{
	struct sbuf *b = &s->bufs[bi];
	struct pal_testexp_stats st;

	if (pal_testexp_stats(b->mem.dmabuf_fd, &st))
		return fail(s, "stats: %s", pal_errno_name(errno));
	if (st.attachments != b->nr_mrs || st.revoked != b->revoked ||
	    (!b->revoked && st.pins != b->nr_pinned))
		return fail(s, "buf %d: exporter counts %u attachment(s), %u pin(s), revoked %u; model %u, %u, %u",
			    bi, st.attachments, st.pins, st.revoked, b->nr_mrs, b->nr_pinned,
			    b->revoked);
	return 0;
}

static int op_stats(struct stress *s)
{
	int bi = pick_buf(s, live_testexp);

	if (bi < 0)
		return 0;
	note(s, "stats of buf %d", bi);
	return check_stats(s, bi);
}

/* Drop the fd and the CPU view; the MRs keep the dma-buf alive. */
static int op_drop(struct stress *s)
{
	int bi = pick_buf(s, has_fd);
	struct sbuf *b;

	if (bi < 0)
		return 0;
	b = &s->bufs[bi];
	note(s, "drop buf %d (%u MRs)", bi, b->nr_mrs);
	if (b->testexp && check_stats(s, bi))
		return -1;
	pal_mem_free(&b->mem);
	b->dropped = true;
	/* vfio-pci revokes a device's dma-bufs when its last fd closes. */
	if (b->vfio)
		b->revoked = true;
	if (!b->nr_mrs)
		memset(b, 0, sizeof(*b));
	return 0;
}

static int (*const ops[NR_OPS])(struct stress *s) = {
	op_create, op_reg, op_traffic, op_move, op_revoke, op_dereg, op_drop, op_stats,
};

static enum op draw_op(struct stress *s)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	r = (unsigned int)rand_below(s, total);
	for (i = 0; r >= op_weight[i]; i++)
		r -= op_weight[i];
	return (enum op)i;
}

/* Deregister and free everything; the test exporters must be left bare. */
static int teardown(struct stress *s)
{
	int i, rc = 0;

	s->op_index++;
	note(s, "teardown");
	for (i = 0; i < MAX_BUFS; i++) {
		struct sbuf *b = &s->bufs[i];
		int j;

		if (!b->used)
			continue;
		for (j = 0; j < MAX_MRS; j++) {
			if (!s->mrs[j].used || s->mrs[j].buf != (unsigned int)i)
				continue;
			if (ibv_dereg_mr(s->mrs[j].mr) && !rc)
				rc = fail(s, "ibv_dereg_mr: %s", pal_errno_name(errno));
			s->mrs[j].used = false;
			b->nr_mrs--;
			if (!s->mrs[j].on_demand)
				b->nr_pinned--;
		}
		if (!b->dropped && b->testexp && !rc)
			rc = check_stats(s, i);
		if (!b->dropped)
			free_buf(b);
		memset(b, 0, sizeof(*b));
	}
	return rc;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s --device DEV --ops N [--seed S] [--vfio BDF]\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "ops", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "vfio", required_argument, NULL, 'v' },
		{ "no-on-demand", no_argument, NULL, 'o' },
		{ "no-atomics", no_argument, NULL, 'a' },
		{ 0 }
	};
	struct stress *s = calloc(1, sizeof(*s));
	const char *device = NULL;
	unsigned long nr_ops = 0, i;
	struct timespec ts;
	int c, rc = 0;

	if (!s)
		return 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': device = optarg; break;
		case 'n': nr_ops = strtoul(optarg, NULL, 0); break;
		case 's': s->seed = strtoull(optarg, NULL, 0); break;
		case 'v': s->vfio_bdf = optarg; break;
		case 'o': s->no_on_demand = true; break;
		case 'a': s->no_atomics = true; break;
		default: usage(argv[0]); return 2;
		}
	}
	if (!device || !nr_ops || !s->seed) {
		usage(argv[0]);
		return 2;
	}
	s->rng = s->seed;
	/* Printed first, so a run that dies can still be replayed. */
	printf("dmabuf_stress: seed %" PRIu64 ", %lu operations on %s%s%s\n", s->seed, nr_ops,
	       device, s->vfio_bdf ? ", vfio BAR of " : "", s->vfio_bdf ? s->vfio_bdf : "");
	fflush(stdout);
	if (pal_loop_open(&s->loop, device, 4)) {
		fprintf(stderr, "FAIL: %s\n", s->loop.err);
		return 1;
	}
	s->src = calloc(2, MAX_WINDOW);
	s->dst = s->src ? s->src + MAX_WINDOW : NULL;
	s->local = s->src ? ibv_reg_mr(s->loop.pd, s->src, 2 * MAX_WINDOW,
				       IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!s->local) {
		fprintf(stderr, "FAIL: local MR: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < nr_ops && !rc; i++) {
		enum op op = draw_op(s);

		s->op_index = i;
		note(s, "%s (nothing to do)", op_names[op]);
		rc = ops[op](s);
		s->done[op]++;
	}
	if (!rc)
		rc = teardown(s);
	printf("buffers: udmabuf %lu, heap %lu, testexp %lu, vfio %lu\n", s->created[0],
	       s->created[1], s->created[2] + s->created[3], s->created[4]);
	printf("operations:");
	for (i = 0; i < NR_OPS; i++)
		printf(" %s %lu", op_names[i], s->done[i]);
	printf("\nregistrations: %lu succeeded, %lu EINVAL/EBADF, %lu ENODEV, %lu EOPNOTSUPP; %lu traffic ops failed on revoked buffers; %lu QP resets retried\n",
	       s->reg_errno[0], s->reg_errno[1], s->reg_errno[2], s->reg_errno[3],
	       s->traffic_failed, s->loop.reset_retries);
	ibv_dereg_mr(s->local);
	pal_loop_close(&s->loop);
	if (rc)
		return 1;
	printf("PASS: seed %" PRIu64 ", %lu operations, every result as the model predicted\n",
	       s->seed, nr_ops);
	free(s->src);
	free(s);
	return 0;
}
