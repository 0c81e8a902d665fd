/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by ringbuf_bench.bpf.c (producer) and ringbuf_consume.c (libbpf consumer).
 * The protocol is documented in bench/c/README.md; the TypeScript bench replicates it. */
#ifndef TSBPF_RINGBUF_BENCH_H
#define TSBPF_RINGBUF_BENCH_H

/* BPF_PROG_TEST_RUN ctx_in of the `produce` program (16 bytes). */
struct bench_args {
	__u32 count;        /* records to write in this run (<= 1 << 23, bpf_loop's limit) */
	__u32 submit_flags; /* bpf_ringbuf_submit flags: 0 adaptive wakeup, 1 BPF_RB_NO_WAKEUP */
	__u64 seq_start;    /* seq of the first record */
};

/* One ring buffer record (32 bytes). */
struct bench_event {
	__u64 seq;   /* seq_start, seq_start + 1, ... */
	__u64 value; /* seq * 3 (lets the consumer check what it read) */
	__u32 cpu;   /* CPU the producer ran on */
	__u32 magic; /* BENCH_MAGIC */
	__u64 pad;   /* 0 */
};

#define BENCH_MAGIC 0x7b5b3b1bu

#endif
