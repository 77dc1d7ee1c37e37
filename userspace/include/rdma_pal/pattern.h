/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Deterministic data patterns: every byte is a function of (seed, offset),
 * so a buffer written on one host can be checked on another without moving
 * the reference copy.
 */
#ifndef RDMA_PAL_PATTERN_H
#define RDMA_PAL_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Fill buf[0..len) with the pattern of seed, as if buf started at offset. */
void pal_pattern_fill(void *buf, size_t len, uint64_t seed, size_t offset);

/*
 * Check buf[0..len) against the pattern of seed starting at offset.
 * Returns the offset within buf of the first wrong byte, or -1 if none.
 */
ssize_t pal_pattern_check(const void *buf, size_t len, uint64_t seed,
			  size_t offset);

/* The expected byte at absolute offset off of the pattern of seed. */
uint8_t pal_pattern_byte(uint64_t seed, size_t off);

#endif
