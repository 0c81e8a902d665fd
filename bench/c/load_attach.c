// SPDX-License-Identifier: GPL-2.0
// load_attach: time to open + load + attach one program of an eBPF object with libbpf, and
// to detach + close it again (reference side; README.md). Prints one JSON line.
//
// Usage: load_attach [--obj PATH] [--prog NAME] [--iterations N] [--iface IFNAME]
//   --obj         default test/fixtures/obj/tp_openat.o
//   --prog        default: the object's first program
//   --iface       attach an XDP program to this interface (bpf_link); without it the
//                 program is attached the way its SEC() name says (tracepoint, raw_tp, ...)
// One iteration: bpf_object__open_file, bpf_object__load (maps + every program of the
// object), attach the chosen program  => "open_load_attach" time;
// bpf_link__destroy, bpf_object__close  => "detach" time. mean/median/min/max_ms are the
// open+load+attach times; open_load_* the part before the attach.
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "bench_common.h"

static const char *prog_name = "load_attach";

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double mean, median, min, max;
};

static struct stats summarize(double *ms, int n)
{
	struct stats s = { 0 };

	qsort(ms, n, sizeof(*ms), cmp_double);
	for (int i = 0; i < n; i++)
		s.mean += ms[i];
	s.mean /= n;
	s.median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
	s.min = ms[0];
	s.max = ms[n - 1];
	return s;
}

int main(int argc, char **argv)
{
	const char *obj_path = "test/fixtures/obj/tp_openat.o";
	const char *want_prog = NULL, *iface = NULL, *chosen = NULL;
	int iterations = 20, ifindex = 0;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (i + 1 >= argc)
			fail(prog_name, "%s needs a value", opt);
		if (!strcmp(opt, "--obj"))
			obj_path = argv[++i];
		else if (!strcmp(opt, "--prog"))
			want_prog = argv[++i];
		else if (!strcmp(opt, "--iterations"))
			iterations = (int)parse_count(prog_name, opt, argv[++i]);
		else if (!strcmp(opt, "--iface"))
			iface = argv[++i];
		else
			fail(prog_name, "unknown option %s (see the usage line in load_attach.c)", opt);
	}
	if (iface && !(ifindex = (int)if_nametoindex(iface)))
		fail(prog_name, "no interface named %s", iface);

	bench_init_libbpf();
	double *attach_ms = calloc(iterations, sizeof(double));
	double *detach_ms = calloc(iterations, sizeof(double));
	double *load_ms = calloc(iterations, sizeof(double));
	if (!attach_ms || !detach_ms || !load_ms)
		fail(prog_name, "out of memory");

	for (int it = 0; it < iterations; it++) {
		double t0 = now_sec();
		struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
		struct bpf_program *prog;
		struct bpf_link *link;

		if (!obj)
			fail(prog_name, "cannot open %s: %s (build it with scripts/build-fixtures.sh)",
			     obj_path, strerror(errno));
		if (bpf_object__load(obj))
			fail(prog_name, "cannot load %s: %s", obj_path, strerror(errno));
		double tl = now_sec();
		prog = want_prog ? bpf_object__find_program_by_name(obj, want_prog)
				 : bpf_object__next_program(obj, NULL);
		if (!prog)
			fail(prog_name, "%s has no program %s", obj_path, want_prog ? want_prog : "");
		link = ifindex ? bpf_program__attach_xdp(prog, ifindex) : bpf_program__attach(prog);
		if (!link)
			fail(prog_name, "cannot attach %s: %s%s", bpf_program__name(prog),
			     strerror(errno),
			     ifindex ? "" : " (is tracefs mounted? run scripts/kernel-setup.sh)");
		double t1 = now_sec();
		if (!chosen)
			chosen = strdup(bpf_program__name(prog));
		bpf_link__destroy(link);
		bpf_object__close(obj);
		double t2 = now_sec();

		attach_ms[it] = (t1 - t0) * 1e3;
		load_ms[it] = (tl - t0) * 1e3;
		detach_ms[it] = (t2 - t1) * 1e3;
	}

	struct stats a = summarize(attach_ms, iterations), d = summarize(detach_ms, iterations);
	struct stats l = summarize(load_ms, iterations);
	const char *base = strrchr(obj_path, '/');

	printf("{\"bench\":\"load_attach\",\"impl\":\"libbpf\",\"object\":\"%s\",\"program\":\"%s\","
	       "\"attach\":\"%s\",\"iterations\":%d,\"mean_ms\":%.3f,\"median_ms\":%.3f,"
	       "\"min_ms\":%.3f,\"max_ms\":%.3f,\"open_load_mean_ms\":%.3f,\"open_load_median_ms\":%.3f,"
	       "\"detach_mean_ms\":%.3f,\"detach_median_ms\":%.3f}\n",
	       base ? base + 1 : obj_path, chosen, ifindex ? "xdp" : "sec", iterations, a.mean,
	       a.median, a.min, a.max, l.mean, l.median, d.mean, d.median);
	return 0;
}
