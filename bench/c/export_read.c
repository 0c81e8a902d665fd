// SPDX-License-Identifier: GPL-2.0
/*
 * export_read: the floor under the exporter benchmark (bench/export.ts). Opens a pinned hash map
 * of struct flow_key -> struct traffic (the layout bench/export.ts creates) and reads every
 * element --passes times with BPF_MAP_LOOKUP_BATCH (4096 per call, as the exporter does),
 * summing packets — what any exporter must do at least per scrape, with no decoding, no
 * formatting and no HTTP. Prints one JSON line:
 *   {"tool":"export_read","entries":N,"passes":P,"pass_ms_median":…,"pass_ms_p99":…,
 *    "cpu_ms_per_pass":…,"maxrss_kib":…,"checksum":…}
 * Usage: export_read --pin PATH --passes P
 */
#include <stdint.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include "bench_common.h"

struct flow_key {
	uint32_t saddr;
	uint8_t proto;
	uint8_t pad[3];
};
struct traffic {
	uint64_t packets;
	uint64_t bytes;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define BATCH 4096

int main(int argc, char **argv)
{
	const char *prog = "export_read", *pin = NULL;
	unsigned long long passes = 0;
	static struct flow_key keys[BATCH];
	static struct traffic values[BATCH];
	double *times;
	uint64_t checksum = 0, entries = 0;
	struct rusage ru;
	double cpu0, cpu1;
	int fd;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--pin"))
			pin = argv[i + 1];
		else if (!strcmp(argv[i], "--passes"))
			passes = parse_count(prog, "--passes", argv[i + 1]);
		else
			fail(prog, "unknown option %s", argv[i]);
	}
	if (!pin || !passes)
		fail(prog, "usage: export_read --pin PATH --passes P");
	bench_init_libbpf();
	fd = bpf_obj_get(pin);
	if (fd < 0)
		fail(prog, "bpf_obj_get(%s): %s", pin, strerror(errno));
	times = calloc(passes, sizeof(*times));
	if (!times)
		fail(prog, "out of memory");
	getrusage(RUSAGE_SELF, &ru);
	cpu0 = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	for (unsigned long long p = 0; p < passes; p++) {
		double t0 = now_sec();
		uint64_t in = 0, out = 0, n = 0;
		void *in_batch = NULL;
		int done = 0;

		while (!done) {
			__u32 count = BATCH;
			int err = bpf_map_lookup_batch(fd, in_batch, &out, keys, values, &count, NULL);

			if (err && errno != ENOENT)
				fail(prog, "bpf_map_lookup_batch: %s", strerror(errno));
			done = err != 0;
			for (__u32 i = 0; i < count; i++)
				checksum += values[i].packets;
			n += count;
			in = out;
			in_batch = &in;
		}
		times[p] = (now_sec() - t0) * 1e3;
		entries = n;
	}
	getrusage(RUSAGE_SELF, &ru);
	cpu1 = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	qsort(times, passes, sizeof(*times), cmp_double);
	printf("{\"tool\":\"export_read\",\"entries\":%llu,\"passes\":%llu,\"pass_ms_median\":%.4f,"
	       "\"pass_ms_p99\":%.4f,\"cpu_ms_per_pass\":%.4f,\"maxrss_kib\":%ld,\"checksum\":%llu}\n",
	       (unsigned long long)entries, passes, times[passes / 2], times[(passes * 99) / 100],
	       (cpu1 - cpu0) * 1e3 / passes, ru.ru_maxrss, (unsigned long long)checksum);
	return 0;
}
