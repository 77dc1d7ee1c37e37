// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <rdma_pal/pattern.h>

/* splitmix64: cheap, and every 8-byte word differs from its neighbours. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint8_t pal_pattern_byte(uint64_t seed, size_t off)
{
	return (uint8_t)(mix(seed ^ (off / 8)) >> (8 * (off % 8)));
}

void pal_pattern_fill(void *buf, size_t len, uint64_t seed, size_t offset)
{
	uint8_t *p = buf;
	size_t i = 0;

	/* Byte at a time up to a word boundary of the pattern, then words. */
	for (; i < len && (offset + i) % 8; i++)
		p[i] = pal_pattern_byte(seed, offset + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t w = mix(seed ^ ((offset + i) / 8));

		for (int b = 0; b < 8; b++)
			p[i + b] = (uint8_t)(w >> (8 * b));
	}
	for (; i < len; i++)
		p[i] = pal_pattern_byte(seed, offset + i);
}

ssize_t pal_pattern_check(const void *buf, size_t len, uint64_t seed,
			  size_t offset)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != pal_pattern_byte(seed, offset + i))
			return (ssize_t)i;
	return -1;
}
