// SPDX-License-Identifier: GPL-2.0
// map_lookup: bpf_map_lookup_elem throughput from user space (reference side; README.md).
// Creates a BPF_MAP_TYPE_HASH __u32 -> __u64 with --entries entries (default 1024), fills
// key k with value k * 7, then looks up keys 0, 1, ..., entries-1, 0, 1, ... in a tight
// loop for --seconds (default 1), checking each value. Prints one JSON line.
//
// Usage: map_lookup [--entries N] [--seconds S]
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "bench_common.h"

static const char *prog_name = "map_lookup";

int main(int argc, char **argv)
{
	__u32 entries = 1024;
	double duration = 1.0;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (i + 1 >= argc)
			fail(prog_name, "%s needs a value", opt);
		if (!strcmp(opt, "--entries"))
			entries = (__u32)parse_count(prog_name, opt, argv[++i]);
		else if (!strcmp(opt, "--seconds"))
			duration = (double)parse_count(prog_name, opt, argv[++i]);
		else
			fail(prog_name, "unknown option %s (see the usage line in map_lookup.c)", opt);
	}

	bench_init_libbpf();
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_lookup", sizeof(__u32), sizeof(__u64),
				entries, NULL);
	if (fd < 0)
		fail(prog_name, "BPF_MAP_CREATE failed: %s (needs root or CAP_BPF)", strerror(errno));
	for (__u32 k = 0; k < entries; k++) {
		__u64 v = (__u64)k * 7;

		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			fail(prog_name, "BPF_MAP_UPDATE_ELEM failed: %s", strerror(errno));
	}

	__u64 lookups = 0, sum = 0, bad = 0;
	__u32 key = 0;
	double start = now_sec(), end = start + duration, t = start;

	/* Check the clock every 4096 lookups so clock_gettime stays out of the measurement. */
	while (t < end) {
		for (int i = 0; i < 4096; i++) {
			__u64 v;

			if (bpf_map_lookup_elem(fd, &key, &v) || v != (__u64)key * 7)
				bad++;
			sum += v;
			if (++key == entries)
				key = 0;
		}
		lookups += 4096;
		t = now_sec();
	}
	double seconds = t - start;

	close(fd);
	if (bad)
		fail(prog_name, "%llu lookups failed or returned a wrong value", (unsigned long long)bad);
	printf("{\"bench\":\"map_lookup\",\"impl\":\"libbpf\",\"map\":\"hash\",\"entries\":%u,"
	       "\"key_bytes\":4,\"value_bytes\":8,\"lookups\":%llu,\"seconds\":%.6f,"
	       "\"lookups_per_sec\":%.0f,\"checksum\":%llu}\n",
	       entries, (unsigned long long)lookups, seconds, lookups / seconds,
	       (unsigned long long)sum);
	return 0;
}
