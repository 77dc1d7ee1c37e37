// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Race registration, move and revoke of one test exporter buffer against
 * RDMA traffic into it, for a bounded time.
 *
 *   dmabuf_race --device DEV --seconds S [--pinned] [--size B]
 *               [--extent-size B] [--seed N] [--no-on-demand]
 *
 * One process, two RC QPs on DEV connected to each other (pal_loop). The
 * target MR covers the whole buffer: on demand by default, pinned with
 * --pinned. For S seconds, at once:
 *
 *  - traffic: batches of RDMA WRITEs of fresh patterns to random windows
 *    of the target MR, then READs of the same windows; every request must
 *    complete exactly once, in order, and while the MR is valid every
 *    READ must return what was written and the exporter's CPU view must
 *    hold it too (a stale mapping after a move would read back its own
 *    writes, but they would not be in the buffer);
 *  - a registration thread registers random windows of the same buffer
 *    (pinned or on demand) and deregisters them;
 *  - a move thread moves the buffer: this must succeed unless an importer
 *    holds a pin (EBUSY), and no importer may keep a mapping across it;
 *  - at 60% of the time the buffer is revoked: no importer may keep a
 *    mapping, the buffer is then poisoned through its CPU view, every
 *    request posted after that must fail, every registration must fail
 *    with ENODEV, and when the time is up the poison must be intact.
 *
 * --no-on-demand: the device has no on-demand dma-buf MRs (siw): every MR,
 * the target's and the registration thread's, is pinned.
 *
 * Finally the exporter must report no attachment, mapping or pin left, and
 * the run must show that the races happened: at least MIN_OVERLAP good,
 * checked batches during which a move completed (on demand) or was
 * refused for a pin (pinned), and during which a registration was made.
 * Exit 0 if everything held, 1 with the reason otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rdma_pal/errname.h>
#include <rdma_pal/loop.h>
#include <rdma_pal/mem.h>
#include <rdma_pal/pattern.h>
#include <rdma_pal/testexp.h>

#define POISON 0x5a
#define BATCH 4
#define MAX_WINDOW (16 << 10)
#define POLL_MS 30000
/* Good batches that must have overlapped each kind of race. */
#define MIN_OVERLAP 10

struct options {
	const char *device;
	double seconds;
	bool pinned;
	bool no_on_demand;
	size_t size;
	size_t extent_size;
	uint64_t seed;
};

/* What the threads share. */
struct race {
	const struct options *opt;
	struct pal_loop loop;
	struct pal_mem mem;
	atomic_bool stop;
	atomic_bool revoke_started;
	atomic_bool revoke_done;
	atomic_bool failed;
	/* Counters, each written by one thread; read by traffic as it goes. */
	atomic_ulong regs, moves, move_ebusy;
	unsigned long reg_enodev, move_enodev;
	unsigned long batches_ok, requests, errors_after_revoke;
	/* Good batches whose windows were checked in the CPU view. */
	unsigned long batches_cpu_checked;
	/* Good batches during which a move completed, was refused, a reg made. */
	unsigned long batches_across_move, batches_across_ebusy, batches_across_reg;
};

static void fail(struct race *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct race *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	atomic_store(&r->failed, true);
	atomic_store(&r->stop, true);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

/* xorshift64*: each thread has its own state, derived from --seed. */
static uint64_t next_rand(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

static size_t rand_below(uint64_t *state, size_t n)
{
	return n ? next_rand(state) % n : 0;
}

/* A random page-aligned window of the buffer, at most max bytes. */
static void rand_window(uint64_t *state, size_t size, size_t max,
			size_t *offset, size_t *len)
{
	size_t pages = size / 4096;

	*offset = rand_below(state, pages) * 4096;
	*len = (1 + rand_below(state, max / 4096)) * 4096;
	if (*len > size - *offset)
		*len = size - *offset;
}

static void *reg_thread(void *arg)
{
	struct race *r = arg;
	uint64_t rng = r->opt->seed ^ 0x7265677300000001ULL;
	int base = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		   IBV_ACCESS_REMOTE_READ;

	while (!atomic_load(&r->stop)) {
		bool on_demand = rand_below(&rng, 2) && !r->opt->no_on_demand;
		bool revoked_before = atomic_load(&r->revoke_done);
		size_t offset, len;
		struct ibv_mr *mr;

		rand_window(&rng, r->mem.size, r->mem.size, &offset, &len);
		mr = ibv_reg_dmabuf_mr(r->loop.pd, offset, len, offset,
				       r->mem.dmabuf_fd,
				       base | (on_demand ? IBV_ACCESS_ON_DEMAND : 0));
		if (!mr) {
			if (errno == ENODEV && atomic_load(&r->revoke_started)) {
				r->reg_enodev++;
				sleep_us((long)rand_below(&rng, 1000));
				continue;
			}
			fail(r, "registering [%zu, +%zu) %s failed with %s%s", offset, len,
			     on_demand ? "on demand" : "pinned", pal_errno_name(errno),
			     atomic_load(&r->revoke_started) ? "" : " before any revoke");
			break;
		}
		if (revoked_before) {
			fail(r, "registration after the revoke succeeded");
			ibv_dereg_mr(mr);
			break;
		}
		atomic_fetch_add(&r->regs, 1);
		sleep_us((long)rand_below(&rng, 2000));
		if (ibv_dereg_mr(mr)) {
			fail(r, "ibv_dereg_mr: %s", pal_errno_name(errno));
			break;
		}
	}
	return NULL;
}

static void *move_thread(void *arg)
{
	struct race *r = arg;
	uint64_t rng = r->opt->seed ^ 0x6d6f766500000002ULL;
	uint32_t live;

	while (!atomic_load(&r->stop)) {
		if (!pal_testexp_move(r->mem.dmabuf_fd, &live)) {
			if (live) {
				fail(r, "%u mapping(s) held across a move", live);
				break;
			}
			atomic_fetch_add(&r->moves, 1);
		} else if (errno == EBUSY && live) {
			/* Not a pin: an importer kept its mapping. */
			fail(r, "move refused: %u mapping(s) kept after invalidation", live);
			break;
		} else if (errno == EBUSY) {
			atomic_fetch_add(&r->move_ebusy, 1);
		} else if (errno == ENODEV && atomic_load(&r->revoke_started)) {
			r->move_enodev++;
		} else {
			fail(r, "move failed with %s", pal_errno_name(errno));
			break;
		}
		/*
		 * A move holds the reservation lock while it copies the buffer;
		 * an on-demand fault waits for it for a bounded time, which a
		 * stalled debug guest must not exhaust with moves back to back.
		 */
		sleep_us(2000 + (long)rand_below(&rng, 2000));
	}
	return NULL;
}

/* Revoke at 60% of the run, then poison the buffer through its CPU view. */
static void *revoke_thread(void *arg)
{
	struct race *r = arg;
	double at = now_s() + 0.6 * r->opt->seconds;
	uint32_t live;

	while (!atomic_load(&r->stop) && now_s() < at)
		sleep_us(10000);
	if (atomic_load(&r->stop))
		return NULL;
	atomic_store(&r->revoke_started, true);
	if (pal_testexp_revoke(r->mem.dmabuf_fd, &live)) {
		fail(r, "revoke failed with %s", pal_errno_name(errno));
		return NULL;
	}
	if (live) {
		fail(r, "%u mapping(s) held after the revoke returned", live);
		return NULL;
	}
	memset(r->mem.cpu, POISON, r->mem.size);
	atomic_store(&r->revoke_done, true);
	printf("revoked at %.1f s with no mapping held; buffer poisoned\n",
	       0.6 * r->opt->seconds);
	return NULL;
}

struct traffic {
	struct ibv_mr *target;
	struct ibv_mr *local;
	uint8_t *src;		/* BATCH windows of patterns */
	uint8_t *dst;		/* BATCH windows read back */
	uint64_t next_wr_id;
};

/*
 * Wait for the completions of wr_ids [first, first + n): each exactly
 * once, in order. Returns how many failed, or -1 on a lost, duplicated or
 * reordered completion.
 */
static int complete_batch(struct race *r, uint64_t first, int n)
{
	struct ibv_wc wc;
	int i, errors = 0;

	for (i = 0; i < n; i++) {
		if (pal_loop_poll(&r->loop, &wc, POLL_MS)) {
			fail(r, "request %" PRIu64 " never completed: %s", first + i,
			     r->loop.err);
			return -1;
		}
		if (wc.wr_id != first + i) {
			fail(r, "completion of request %" PRIu64 " where %" PRIu64
			     " was due (lost, duplicated or reordered)", (uint64_t)wc.wr_id,
			     first + i);
			return -1;
		}
		if (wc.status != IBV_WC_SUCCESS)
			errors++;
	}
	return errors;
}

/* No completion may remain once every request has been accounted for. */
static void check_cq_empty(struct race *r)
{
	struct ibv_wc wc;

	if (!pal_loop_poll(&r->loop, &wc, 200))
		fail(r, "extra completion of request %" PRIu64 " (status %s)",
		     (uint64_t)wc.wr_id, ibv_wc_status_str(wc.status));
}

/*
 * The exporter's CPU view of [offset, +len) must hold what the batch wrote.
 * Moves copy the buffer and keep the CPU view, and only this thread
 * writes, so the view cannot change under the check; only the poison of a
 * revoke can, and a revoke that started before the check ended voids it.
 * Returns true if the window was checked (a mismatch fails the run).
 */
static bool check_cpu_view(struct race *r, const uint8_t *want, size_t offset, size_t len)
{
	bool same = !memcmp((const uint8_t *)r->mem.cpu + offset, want, len);

	if (atomic_load(&r->revoke_started))
		return false;
	if (!same)
		fail(r, "the exporter's CPU view of [%zu, +%zu) does not hold what the WRITE wrote, though the MR READ it back",
		     offset, len);
	return true;
}

/*
 * One batch: WRITE BATCH windows, then READ them back. Returns 1 if every
 * request succeeded, 0 if some failed (then the QPs are reset), -1 on a
 * failed check.
 */
static int traffic_batch(struct race *r, struct traffic *t, uint64_t *rng)
{
	size_t offset[BATCH], len[BATCH];
	bool posted_after_revoke = atomic_load(&r->revoke_done);
	unsigned long moves, ebusy, regs;
	bool moved, refused, registered, cpu_checked = true;
	enum ibv_wr_opcode op[2] = { IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ };
	int pass, i, errors = 0, e;

	for (i = 0; i < BATCH; i++) {
		rand_window(rng, r->mem.size, MAX_WINDOW, &offset[i], &len[i]);
		pal_pattern_fill(t->src + i * MAX_WINDOW, len[i], next_rand(rng), 0);
		memset(t->dst + i * MAX_WINDOW, 0, len[i]);
	}
	/*
	 * What overlapped the RDMA traffic: counted from the first post to
	 * the last completion, not over the CPU-view check after it.
	 */
	moves = atomic_load(&r->moves);
	ebusy = atomic_load(&r->move_ebusy);
	regs = atomic_load(&r->regs);
	/* Windows may overlap: the last WRITE of a byte is what READ sees. */
	for (pass = 0; pass < 2; pass++) {
		uint64_t first = t->next_wr_id;

		for (i = 0; i < BATCH; i++) {
			uint8_t *laddr = (pass ? t->dst : t->src) + i * MAX_WINDOW;

			if (pal_loop_post_rdma(&r->loop, op[pass], t->local, laddr, len[i],
					       offset[i],
					       t->target->rkey, t->next_wr_id)) {
				fail(r, "%s", r->loop.err);
				return -1;
			}
			t->next_wr_id++;
			r->requests++;
		}
		e = complete_batch(r, first, BATCH);
		if (e < 0)
			return -1;
		errors += e;
		if (e)
			break;
	}
	moved = atomic_load(&r->moves) != moves;
	refused = atomic_load(&r->move_ebusy) != ebusy;
	registered = atomic_load(&r->regs) != regs;
	if (errors) {
		if (!atomic_load(&r->revoke_started)) {
			fail(r, "requests failed before any revoke");
			return -1;
		}
		/*
		 * Every failed request costs a kernel log line in rxe: after a
		 * few hundred failed batches, slow down.
		 */
		if (++r->errors_after_revoke > 200)
			sleep_us(10000);
		if (pal_loop_reset(&r->loop)) {
			fail(r, "%s", r->loop.err);
			return -1;
		}
		return 0;
	}
	if (posted_after_revoke) {
		fail(r, "a batch posted after the revoke returned succeeded");
		return -1;
	}
	for (i = 0; i < BATCH; i++) {
		int j;

		/* Only check windows no later WRITE of the batch overlapped. */
		for (j = i + 1; j < BATCH; j++)
			if (offset[j] < offset[i] + len[i] && offset[i] < offset[j] + len[j])
				break;
		if (j < BATCH)
			continue;
		if (memcmp(t->src + i * MAX_WINDOW, t->dst + i * MAX_WINDOW, len[i])) {
			fail(r, "READ of [%zu, +%zu) did not return what was written",
			     offset[i], len[i]);
			return -1;
		}
		if (!check_cpu_view(r, t->src + i * MAX_WINDOW, offset[i], len[i]))
			cpu_checked = false;
		else if (atomic_load(&r->failed))
			return -1;
	}
	r->batches_ok++;
	if (!cpu_checked)
		return 1;
	r->batches_cpu_checked++;
	r->batches_across_move += moved;
	r->batches_across_ebusy += refused;
	r->batches_across_reg += registered;
	return 1;
}

static int run_traffic(struct race *r)
{
	uint64_t rng = r->opt->seed ^ 0x7472616600000003ULL;
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
		     IBV_ACCESS_REMOTE_READ;
	struct traffic t = { .next_wr_id = 1 };
	double end = now_s() + r->opt->seconds;
	int rc = -1;

	if (!r->opt->pinned)
		access |= IBV_ACCESS_ON_DEMAND;
	/* iova = offset: remote addresses are buffer offsets. */
	t.target = ibv_reg_dmabuf_mr(r->loop.pd, 0, r->mem.size, 0,
				     r->mem.dmabuf_fd, access);
	if (!t.target) {
		fail(r, "target MR: %s", pal_errno_name(errno));
		return -1;
	}
	t.src = calloc(2, BATCH * MAX_WINDOW);
	if (!t.src)
		goto out;
	t.dst = t.src + BATCH * MAX_WINDOW;
	t.local = ibv_reg_mr(r->loop.pd, t.src, 2 * BATCH * MAX_WINDOW,
			     IBV_ACCESS_LOCAL_WRITE);
	if (!t.local) {
		fail(r, "local MR: %s", pal_errno_name(errno));
		goto out;
	}
	while (!atomic_load(&r->stop) && now_s() < end)
		if (traffic_batch(r, &t, &rng) < 0)
			goto out;
	atomic_store(&r->stop, true);
	check_cq_empty(r);
	rc = atomic_load(&r->failed) ? -1 : 0;
out:
	atomic_store(&r->stop, true);
	if (t.local)
		ibv_dereg_mr(t.local);
	if (t.target && ibv_dereg_mr(t.target))
		fail(r, "dereg of the target MR: %s", pal_errno_name(errno));
	free(t.src);
	return rc;
}

static int check_end(struct race *r)
{
	struct pal_testexp_stats st;
	size_t i;

	if (!atomic_load(&r->revoke_done)) {
		fail(r, "the run ended before the revoke");
		return -1;
	}
	for (i = 0; i < r->mem.size; i++) {
		if (((uint8_t *)r->mem.cpu)[i] != POISON) {
			fail(r, "byte %zu changed to 0x%02x after the revoke returned", i,
			     ((uint8_t *)r->mem.cpu)[i]);
			return -1;
		}
	}
	if (pal_testexp_stats(r->mem.dmabuf_fd, &st)) {
		fail(r, "stats: %s", pal_errno_name(errno));
		return -1;
	}
	printf("exporter at the end: %u attachment(s), %u list(s) and %u sg_table(s) mapped, %u pin(s), %u move(s), revoked %u\n",
	       st.attachments, st.pal_maps, st.sgt_maps, st.pins, st.moves, st.revoked);
	if (st.attachments || st.pal_maps || st.sgt_maps || st.pins) {
		fail(r, "the exporter still has importers after every MR is gone");
		return -1;
	}
	/*
	 * A run in which nothing raced proves nothing: good batches must have
	 * overlapped completed moves (on demand; a pinned target refuses them,
	 * so there the refusals must have overlapped) and registrations.
	 */
	if (!r->errors_after_revoke ||
	    (r->opt->pinned ? r->batches_across_ebusy : r->batches_across_move) < MIN_OVERLAP ||
	    r->batches_across_reg < MIN_OVERLAP) {
		fail(r, "too little overlapped: %lu failed batches after the revoke; of the checked good batches %lu overlapped a move, %lu a refused move, %lu a registration (at least %d needed)",
		     r->errors_after_revoke, r->batches_across_move, r->batches_across_ebusy,
		     r->batches_across_reg, MIN_OVERLAP);
		return -1;
	}
	return 0;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --device DEV [--seconds S] [--pinned] [--size BYTES]\n"
		"          [--extent-size BYTES] [--seed N] [--no-on-demand]\n", prog);
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 't' },
		{ "pinned", no_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "extent-size", required_argument, NULL, 'x' },
		{ "seed", required_argument, NULL, 'S' },
		{ "no-on-demand", no_argument, NULL, 'o' },
		{ 0 }
	};
	int c;

	*o = (struct options){ .seconds = 10, .size = 1 << 20,
			       .extent_size = 64 << 10, .seed = 1 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->device = optarg; break;
		case 't': o->seconds = strtod(optarg, NULL); break;
		case 'p': o->pinned = true; break;
		case 's': o->size = strtoull(optarg, NULL, 0); break;
		case 'x': o->extent_size = strtoull(optarg, NULL, 0); break;
		case 'S': o->seed = strtoull(optarg, NULL, 0); break;
		case 'o': o->no_on_demand = o->pinned = true; break;
		default: usage(argv[0]); return -1;
		}
	}
	if (!o->device || o->seconds <= 0 || o->size < 4096 || !o->seed) {
		usage(argv[0]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct race r = { .opt = &opt };
	struct pal_mem_params params;
	pthread_t reg, move, revoke;
	int rc;

	if (parse(argc, argv, &opt))
		return 2;
	printf("dmabuf_race: %s, %.0f s, %s target MR, %zu bytes in %zu-byte extents, seed %" PRIu64 "\n",
	       opt.device, opt.seconds, opt.pinned ? "pinned" : "on-demand", opt.size,
	       opt.extent_size, opt.seed);
	if (pal_loop_open(&r.loop, opt.device, 2 * BATCH)) {
		fprintf(stderr, "FAIL: %s\n", r.loop.err);
		return 1;
	}
	params = (struct pal_mem_params){ .size = opt.size, .extent_size = opt.extent_size,
					  .shuffle = true, .seed = opt.seed };
	if (pal_mem_alloc(&r.mem, &pal_mem_testexp_ops, &params)) {
		fprintf(stderr, "FAIL: %s\n", r.mem.err);
		pal_loop_close(&r.loop);
		return 1;
	}

	pthread_create(&reg, NULL, reg_thread, &r);
	pthread_create(&move, NULL, move_thread, &r);
	pthread_create(&revoke, NULL, revoke_thread, &r);
	rc = run_traffic(&r);
	pthread_join(reg, NULL);
	pthread_join(move, NULL);
	pthread_join(revoke, NULL);
	printf("traffic: %lu requests, %lu good batches, %lu failed batches after the revoke\n",
	       r.requests, r.batches_ok, r.errors_after_revoke);
	printf("registrations: %lu, refused with ENODEV after the revoke: %lu\n",
	       atomic_load(&r.regs), r.reg_enodev);
	printf("moves: %lu, EBUSY (pinned): %lu, ENODEV (revoked): %lu; QP resets retried: %lu\n",
	       atomic_load(&r.moves), atomic_load(&r.move_ebusy), r.move_enodev,
	       r.loop.reset_retries);
	printf("good batches checked in the CPU view: %lu; of them during a move: %lu, a refused move: %lu, a registration: %lu\n",
	       r.batches_cpu_checked, r.batches_across_move, r.batches_across_ebusy,
	       r.batches_across_reg);
	if (!rc)
		rc = check_end(&r);
	pal_mem_free(&r.mem);
	pal_loop_close(&r.loop);
	if (rc || atomic_load(&r.failed))
		return 1;
	printf("PASS\n");
	return 0;
}
