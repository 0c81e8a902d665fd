// SPDX-License-Identifier: GPL-2.0
// ringbuf_consume: libbpf ring buffer consumer benchmark (reference side; protocol in
// README.md). Loads ringbuf_bench.bpf.o, makes its `produce` program write records through
// BPF_PROG_TEST_RUN and consumes them with ring_buffer__consume / ring_buffer__poll,
// reading every field of every record. Prints one JSON line.
//
// Usage: ringbuf_consume [--obj PATH] [--events N] [--batch B] [--mode batch|threaded]
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "bench_common.h"
#include "ringbuf_bench.h"

static const char *prog_name = "ringbuf_consume";

struct consumer {
	__u64 next_seq; /* seq the next record must carry */
	__u64 consumed;
	__u64 checksum; /* sum of value fields: 3 * N * (N - 1) / 2 for N events from seq 0 */
	__u64 cpus;     /* bit (cpu % 64) set for every producer CPU seen */
	__u64 bad;      /* records whose fields did not match the protocol */
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct consumer *c = ctx;
	const struct bench_event *e = data;

	if (size != sizeof(*e) || e->seq != c->next_seq || e->value != e->seq * 3 ||
	    e->magic != BENCH_MAGIC || e->pad != 0)
		c->bad++;
	c->checksum += e->value;
	c->cpus |= 1ull << (e->cpu % 64);
	c->next_seq = e->seq + 1;
	c->consumed++;
	return 0;
}

/* One BPF_PROG_TEST_RUN of `produce`: returns the number of records written. */
static __u32 produce(int prog_fd, __u32 count, __u32 flags, __u64 seq_start)
{
	struct bench_args args = { .count = count, .submit_flags = flags, .seq_start = seq_start };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &args, .ctx_size_in = sizeof(args));

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		fail(prog_name, "BPF_PROG_TEST_RUN of produce failed: %s", strerror(errno));
	return opts.retval;
}

struct producer_arg {
	int prog_fd;
	__u64 events;
	__u32 batch;
	atomic_ullong retries;
};

/* Threaded mode: produce all events in batches, retrying what did not fit in the ring. */
static void *producer_main(void *p)
{
	struct producer_arg *a = p;
	__u64 seq = 0;

	while (seq < a->events) {
		__u64 left = a->events - seq;
		__u32 n = left < a->batch ? (__u32)left : a->batch;
		__u32 written = produce(a->prog_fd, n, 0, seq);

		seq += written;
		if (written < n)
			atomic_fetch_add(&a->retries, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *obj_path = "build/bench/ringbuf_bench.bpf.o";
	const char *mode = "batch";
	__u64 events = 5000000;
	__u32 batch = 65536;
	struct consumer c = {};

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (i + 1 >= argc)
			fail(prog_name, "%s needs a value", opt);
		if (!strcmp(opt, "--obj"))
			obj_path = argv[++i];
		else if (!strcmp(opt, "--events"))
			events = parse_count(prog_name, opt, argv[++i]);
		else if (!strcmp(opt, "--batch"))
			batch = (__u32)parse_count(prog_name, opt, argv[++i]);
		else if (!strcmp(opt, "--mode"))
			mode = argv[++i];
		else
			fail(prog_name, "unknown option %s (see the usage line in ringbuf_consume.c)",
			     opt);
	}
	if (strcmp(mode, "batch") && strcmp(mode, "threaded"))
		fail(prog_name, "--mode is batch or threaded, not '%s'", mode);
	if (batch > (1u << 23))
		fail(prog_name, "--batch is at most %u (bpf_loop's limit)", 1u << 23);

	bench_init_libbpf();
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		fail(prog_name, "cannot open %s: %s (build it with scripts/build-bench-c.sh)",
		     obj_path, strerror(errno));
	if (bpf_object__load(obj))
		fail(prog_name, "cannot load %s: %s", obj_path, strerror(errno));
	int prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "produce"));
	int map_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, "rb"));
	__u64 ring_bytes = bpf_map__max_entries(bpf_object__find_map_by_name(obj, "rb"));
	/* 8-byte record header + 32-byte record per event must fit for a whole batch. */
	if ((__u64)batch * (8 + sizeof(struct bench_event)) > ring_bytes)
		fail(prog_name, "--batch %u does not fit the %llu-byte ring", batch,
		     (unsigned long long)ring_bytes);

	struct ring_buffer *rb = ring_buffer__new(map_fd, on_event, &c, NULL);
	if (!rb)
		fail(prog_name, "ring_buffer__new failed: %s", strerror(errno));

	double consume_time = 0, start = now_sec();
	__u64 retries = 0;

	if (!strcmp(mode, "batch")) {
		/* Alternate: one run writes a batch (no wakeups), then drain it completely. */
		while (c.consumed < events) {
			__u64 left = events - c.consumed;
			__u32 n = left < batch ? (__u32)left : batch;
			__u32 written = produce(prog_fd, n, BPF_RB_NO_WAKEUP, c.consumed);

			if (written != n)
				fail(prog_name, "produce wrote %u of %u records into an empty ring", written, n);
			double t0 = now_sec();
			int got = ring_buffer__consume(rb);
			consume_time += now_sec() - t0;
			if (got < 0)
				fail(prog_name, "ring_buffer__consume failed: %s", strerror(-got));
		}
	} else {
		/* A producer thread keeps the ring busy; this thread sleeps in epoll until woken. */
		struct producer_arg pa = { .prog_fd = prog_fd, .events = events, .batch = batch };
		pthread_t th;

		if (pthread_create(&th, NULL, producer_main, &pa))
			fail(prog_name, "cannot start the producer thread");
		while (c.consumed < events) {
			int got = ring_buffer__poll(rb, 100);

			if (got < 0 && got != -EINTR)
				fail(prog_name, "ring_buffer__poll failed: %s", strerror(-got));
		}
		pthread_join(th, NULL);
		retries = atomic_load(&pa.retries);
		consume_time = now_sec() - start;
	}
	double seconds = now_sec() - start;

	if (c.bad)
		fail(prog_name, "%llu records did not match the protocol", (unsigned long long)c.bad);
	printf("{\"bench\":\"ringbuf\",\"impl\":\"libbpf\",\"mode\":\"%s\",\"events\":%llu,"
	       "\"batch\":%u,\"record_bytes\":%zu,\"seconds\":%.6f,\"events_per_sec\":%.0f,"
	       "\"consume_seconds\":%.6f,\"consume_events_per_sec\":%.0f,\"full_retries\":%llu,"
	       "\"checksum\":%llu}\n",
	       mode, (unsigned long long)c.consumed, batch, sizeof(struct bench_event), seconds,
	       c.consumed / seconds, consume_time, c.consumed / consume_time,
	       (unsigned long long)retries, (unsigned long long)c.checksum);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
