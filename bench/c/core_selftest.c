// SPDX-License-Identifier: GPL-2.0
// The libbpf side of bench/core-selftest.ts: load each program of OBJ on its own, with CO-RE
// relocated against the BTF file TARGET (libbpf's btf_custom_path) instead of the kernel's,
// and run it once with BPF_PROG_TEST_RUN. One line per program on stdout:
//   NAME load-error ERRNO      the load failed (libbpf's messages go to stderr)
//   NAME retval N              it loaded and returned N
// Self-checking objects (cilium/ebpf's btf/testdata relocs*.c) return 0 when every relocated
// value is what they expect, and the failing line otherwise.
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: core_selftest OBJ TARGET_BTF\n");
		return 2;
	}
	libbpf_set_print(quiet);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = argv[2]);
	struct bpf_object *probe = bpf_object__open_file(argv[1], &opts);
	if (!probe) {
		fprintf(stderr, "cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct bpf_program *p;
	bpf_object__for_each_program(p, probe) {
		const char *name = bpf_program__name(p);
		struct bpf_object *obj = bpf_object__open_file(argv[1], &opts);
		struct bpf_program *q;
		if (!obj)
			return 1;
		bpf_object__for_each_program(q, obj) {
			bpf_program__set_autoload(q, strcmp(bpf_program__name(q), name) == 0);
			// cilium's "socket/<name>" sections are socket filters; libbpf ≥ 1.0 only
			// knows "socket", so say it (tsbpf reads the prefix)
			if (bpf_program__type(q) == BPF_PROG_TYPE_UNSPEC &&
			    strncmp(bpf_program__section_name(q), "socket/", 7) == 0)
				bpf_program__set_type(q, BPF_PROG_TYPE_SOCKET_FILTER);
		}
		int err = bpf_object__load(obj);
		if (err) {
			printf("%s load-error %d\n", name, -err);
		} else {
			unsigned char data[64] = { 0 };
			LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = data, .data_size_in = sizeof(data));
			q = bpf_object__find_program_by_name(obj, name);
			err = bpf_prog_test_run_opts(bpf_program__fd(q), &run);
			if (err)
				printf("%s run-error %d\n", name, errno);
			else
				printf("%s retval %u\n", name, run.retval);
		}
		bpf_object__close(obj);
	}
	bpf_object__close(probe);
	return 0;
}
