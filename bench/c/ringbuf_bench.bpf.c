// SPDX-License-Identifier: GPL-2.0
// ringbuf_bench: ring buffer producer for the consumer benchmark (protocol: README.md).
//
// Program: produce, SEC("syscall") (BPF_PROG_TYPE_SYSCALL), run with BPF_PROG_TEST_RUN and
//          ctx_in = struct bench_args (ringbuf_bench.h). Writes args->count records of
//          struct bench_event with bpf_loop, stopping early when the ring is full.
//          Returns the number of records written in this run.
// Maps:    rb, BPF_MAP_TYPE_RINGBUF, 16 MiB.
//          .bss: __u64 produced (records written, all runs), __u64 full (runs that found
//          the ring full).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "ringbuf_bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} rb SEC(".maps");

__u64 produced = 0;
__u64 full = 0;

struct loop_state {
	__u64 seq;
	__u64 flags;
	__u32 cpu;
	__u32 written;
};

static long emit(__u64 index, struct loop_state *st)
{
	struct bench_event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 1; /* ring full: stop this run */
	e->seq = st->seq;
	e->value = st->seq * 3;
	e->cpu = st->cpu;
	e->magic = BENCH_MAGIC;
	e->pad = 0;
	bpf_ringbuf_submit(e, st->flags);
	st->seq++;
	st->written++;
	return 0;
}

SEC("syscall")
int produce(struct bench_args *args)
{
	struct loop_state st = {
		.seq = args->seq_start,
		.flags = args->submit_flags & BPF_RB_NO_WAKEUP,
		.cpu = bpf_get_smp_processor_id(),
	};
	__u32 count = args->count;

	bpf_loop(count, emit, &st, 0);
	__sync_fetch_and_add(&produced, st.written);
	if (st.written < count)
		__sync_fetch_and_add(&full, 1);
	return st.written;
}

char LICENSE[] SEC("license") = "GPL";
