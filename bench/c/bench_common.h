/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the libbpf reference benchmarks. */
#ifndef TSBPF_BENCH_COMMON_H
#define TSBPF_BENCH_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

static inline double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Print "<prog>: <message>" to stderr and exit 1. */
static inline void __attribute__((noreturn, format(printf, 2, 3)))
fail(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* libbpf prints warnings and errors only: debug chatter would disturb the timing. */
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG || level == LIBBPF_INFO ? 0 : vfprintf(stderr, fmt, ap);
}

static inline void bench_init_libbpf(void)
{
	libbpf_set_print(quiet_print);
}

/* Parse a positive integer option value or fail naming the option. */
static inline unsigned long long parse_count(const char *prog, const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0)
		fail(prog, "%s wants a positive integer, got '%s'", opt, s);
	return v;
}

#endif
