// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A failed pal_mem_alloc() leaves nothing behind, and pal_mem_free() of
 * what it left is harmless: nothing is unmapped or closed a second time.
 *
 * The failure is injected: RLIMIT_NOFILE is lowered so that the udmabuf
 * backend gets its memfd (the lowest free descriptor) and maps it, and then
 * cannot open /dev/udmabuf (EMFILE, whether or not the device exists). The
 * test then maps a page and opens a file, which may reuse the address and
 * the descriptor the backend released, frees the failed buffer twice, and
 * requires both to be intact.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <rdma_pal/mem.h>

static int failures;

static void check(int ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	if (!ok)
		failures++;
}

int main(void)
{
	struct pal_mem_params params = { .size = 1 << 20 };
	struct rlimit saved, one_more;
	struct pal_mem mem;
	int lowest, fd, rc, err;
	char *page;

	lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (lowest < 0) {
		perror("open /dev/null");
		return 1;
	}
	close(lowest);
	if (getrlimit(RLIMIT_NOFILE, &saved)) {
		perror("getrlimit");
		return 1;
	}
	/* Descriptors below lowest are all in use: only lowest is left. */
	one_more = saved;
	one_more.rlim_cur = (rlim_t)lowest + 1;
	if (setrlimit(RLIMIT_NOFILE, &one_more)) {
		perror("setrlimit");
		return 1;
	}
	rc = pal_mem_alloc(&mem, pal_mem_backend("udmabuf"), &params);
	err = errno;
	setrlimit(RLIMIT_NOFILE, &saved);
	printf("# pal_mem_alloc(udmabuf) with one descriptor left: %d, %s (%s)\n", rc,
	       strerror(err), mem.err);

	check(rc == -1 && err == EMFILE, "the allocation fails with EMFILE");
	check(!mem.ops && !mem.cpu && mem.dmabuf_fd == -1 && !mem.priv,
	      "the failed buffer has no backend, mapping, dma-buf or state left");

	/* Likely at the address and descriptor the backend released. */
	page = mmap(NULL, params.size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (page == MAP_FAILED || fd < 0) {
		perror("mmap or open");
		return 1;
	}
	memset(page, 0x5a, params.size);
	pal_mem_free(&mem);
	pal_mem_free(&mem);
	check(fcntl(fd, F_GETFD) >= 0, "freeing the failed buffer twice closes nobody's descriptor");
	/* An unmapped page would fault here. */
	check(mincore(page, params.size, (unsigned char[256]){ 0 }) == 0 &&
	      page[params.size - 1] == 0x5a,
	      "freeing the failed buffer twice unmaps nobody's memory");
	printf("# %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
