// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The order statistics pal_bench reports: a median of an even sample is
 * the mean of its middle two (it was the larger one), and a sample too
 * small for percentiles reports its minimum and maximum instead.
 */
#include <math.h>
#include <stdio.h>

#include "bench.h"

static int failures;

static void expect(const char *what, double got, double want)
{
	if (fabs(got - want) > 1e-9) {
		printf("not ok - %s: %g, expected %g\n", what, got, want);
		failures++;
	} else {
		printf("ok - %s: %g\n", what, got);
	}
}

int main(void)
{
	double two[] = { 9, 1 };
	double four[] = { 4, 1, 3, 2 };
	double five[] = { 50, 10, 40, 20, 30 };
	double ten[] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
	struct bench_stats st;

	expect("median of 2 samples", bench_quantile(two, 2, 0.5), 5);
	expect("median of 4 samples", bench_quantile(four, 4, 0.5), 2.5);

	bench_stats(five, 5, &st);
	expect("5 samples: median", st.median, 30);
	expect("5 samples: min", st.min, 10);
	expect("5 samples: max", st.max, 50);
	expect("5 samples: no percentiles", st.has_pctl, 0);

	bench_stats(ten, 10, &st);
	expect("10 samples: percentiles", st.has_pctl, 1);
	expect("10 samples: median", st.median, 5.5);
	expect("10 samples: p10", st.p10, 1.9);
	expect("10 samples: p90", st.p90, 9.1);

	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures != 0;
}
