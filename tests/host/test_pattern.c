// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Host test of the data patterns every RDMA data check relies on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdma_pal/pattern.h>

static int failures;

#define EXPECT(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);	\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			failures++;					\
		}							\
	} while (0)

int main(void)
{
	enum { LEN = 4099 };
	unsigned char *a = malloc(LEN), *b = malloc(LEN);

	if (!a || !b)
		return 1;
	pal_pattern_fill(a, LEN, 7, 0);
	EXPECT(pal_pattern_check(a, LEN, 7, 0) == -1, "fresh pattern does not check");
	EXPECT(pal_pattern_check(a, LEN, 8, 0) == 0, "another seed checks");

	/* A fill at any offset equals the same bytes of a fill from 0. */
	for (size_t off = 0; off < 17; off++) {
		pal_pattern_fill(b, LEN - off, 7, off);
		EXPECT(!memcmp(a + off, b, LEN - off), "fill at offset %zu differs", off);
		EXPECT(pal_pattern_check(b, LEN - off, 7, off) == -1,
		       "check at offset %zu fails", off);
	}

	/* One flipped byte anywhere is found at its offset. */
	for (size_t i = 0; i < LEN; i += 97) {
		a[i] ^= 0x10;
		EXPECT(pal_pattern_check(a, LEN, 7, 0) == (ssize_t)i,
		       "flip at %zu not found", i);
		a[i] ^= 0x10;
	}

	/* Not constant: neighbouring words differ. */
	EXPECT(memcmp(a, a + 8, 8), "pattern repeats every word");

	free(a);
	free(b);
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
