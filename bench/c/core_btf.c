// SPDX-License-Identifier: GPL-2.0
// libbpf's cost of the kernel BTF that CO-RE needs: btf__load_vmlinux_btf() (what
// bpf_object__load does once per object with CO-RE relocations), then one candidate search per
// name given (btf__find_by_name: a scan like libbpf's bpf_core_find_cands). Prints one JSON line:
// {"loadMs":…, "findMs":…, "cpuMs":…, "addedRssKb":…, "addedAnonKb":…} (/proc/self/status,
// before vs after; cpuMs is the process CPU time of both steps, which a busy machine inflates
// less than the wall times).
// The JS side is bench/core-btf.ts.
//   build/bench/core_btf task_struct sk_buff cred ...
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/btf.h>

static double clock_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* VmRSS or RssAnon from /proc/self/status, in kB */
static long rss_kb(const char *key)
{
	char line[256];
	long kb = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	long r0 = rss_kb("VmRSS"), a0 = rss_kb("RssAnon");
	double c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
	double t0 = now_ms();
	struct btf *btf = btf__load_vmlinux_btf();
	double t1 = now_ms();
	if (!btf) {
		fprintf(stderr, "core_btf: cannot load the kernel's BTF\n");
		return 1;
	}
	int found = 0;
	for (int i = 1; i < argc; i++)
		if (btf__find_by_name(btf, argv[i]) > 0)
			found++;
	double t2 = now_ms();
	double c2 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
	long r1 = rss_kb("VmRSS"), a1 = rss_kb("RssAnon");
	printf("{\"types\":%u,\"found\":%d,\"loadMs\":%.2f,\"findMs\":%.2f,\"cpuMs\":%.2f,"
	       "\"addedRssKb\":%ld,\"addedAnonKb\":%ld}\n",
	       btf__type_cnt(btf), found, t1 - t0, t2 - t1, c2 - c0, r1 - r0, a1 - a0);
	btf__free(btf);
	return 0;
}
