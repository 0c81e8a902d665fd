// SPDX-License-Identifier: GPL-2.0
/*
 * The libbpf side of the trace_http loss bench (bench/http-loss.ts is the tsbpf side): load
 * the trace_http object, read its perf event array `requests` with perf_buffer (32 pages per
 * CPU, as tsbpf's Loader), decode and check every struct request_event, and count what the
 * kernel reports lost, while a producer thread runs the XDP program through
 * BPF_PROG_TEST_RUN at a fixed rate (events/s) for a number of seconds.
 *
 *   http_consume --obj trace_http.elf --rate 400000 [--seconds 2]
 *
 * Prints one JSON line: produced, received, lost, bad, and the achieved producer rate.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "bench_common.h"
#include "http_packet.h"

static const char *PROG = "http_consume";

struct RequestInfo {
	uint32_t saddr; /* network order */
	uint32_t daddr;
	uint16_t sport;
	uint16_t dport;
};

struct request_event {
	struct RequestInfo data;
	uint32_t offset;
	uint32_t size;
};

struct producer {
	int prog_fd;
	double rate;
	double seconds;
	uint64_t produced;
	double elapsed;
	atomic_int done;
};

struct counts {
	uint64_t received, lost, bad, sum;
};

/* The pacing loop, the same as bench/http-producer.ts: run the program `due` times whenever
 * the schedule is behind (at most 4096 per call), sleep 100 µs when it is not. */
static void *produce(void *arg)
{
	struct producer *p = arg;
	uint8_t frame[HTTP_FRAME_LEN];
	uint8_t out[HTTP_FRAME_LEN + 256];

	http_frame(frame);
	double start = now_sec();
	for (;;) {
		double t = now_sec() - start;
		if (t >= p->seconds)
			break;
		int64_t due = (int64_t)(p->rate * t) - (int64_t)p->produced;
		if (due <= 0) {
			usleep(100);
			continue;
		}
		if (due > 4096)
			due = 4096;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
			    .data_out = out, .data_size_out = sizeof(out), .repeat = (int)due);
		if (bpf_prog_test_run_opts(p->prog_fd, &opts))
			fail(PROG, "BPF_PROG_TEST_RUN: %s", strerror(errno));
		p->produced += (uint64_t)due;
	}
	p->elapsed = now_sec() - start;
	atomic_store(&p->done, 1);
	return NULL;
}

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct counts *c = ctx;
	const struct request_event *e = data;

	(void)cpu;
	c->received++;
	if (size < sizeof(*e) + HTTP_FRAME_LEN || ntohl(e->data.saddr) != HTTP_SADDR ||
	    ntohl(e->data.daddr) != HTTP_DADDR || e->data.sport != HTTP_SPORT ||
	    e->data.dport != HTTP_DPORT || e->offset != HTTP_PAYLOAD_OFF || e->size != HTTP_FRAME_LEN) {
		c->bad++;
		return;
	}
	c->sum += e->data.sport;
}

static void on_lost(void *ctx, int cpu, __u64 n)
{
	(void)cpu;
	((struct counts *)ctx)->lost += n;
}

int main(int argc, char **argv)
{
	const char *obj_path = NULL;
	double rate = 0, seconds = 2;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--obj") && i + 1 < argc)
			obj_path = argv[++i];
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = (double)parse_count(PROG, "--rate", argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = (double)parse_count(PROG, "--seconds", argv[++i]);
		else
			fail(PROG, "usage: http_consume --obj PATH --rate EVENTS_PER_SEC [--seconds N]");
	}
	if (!obj_path || rate <= 0)
		fail(PROG, "--obj and --rate are required");
	bench_init_libbpf();

	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	if (!obj)
		fail(PROG, "open %s: %s", obj_path, strerror(errno));
	if (bpf_object__load(obj))
		fail(PROG, "load %s: %s", obj_path, strerror(errno));
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "trace_http");
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "requests");
	if (!prog || !map)
		fail(PROG, "%s has no trace_http program or requests map", obj_path);

	struct counts c = { 0 };
	struct perf_buffer *pb =
		perf_buffer__new(bpf_map__fd(map), 32, on_sample, on_lost, &c, NULL);
	if (!pb)
		fail(PROG, "perf_buffer__new: %s", strerror(errno));

	struct producer p = { .prog_fd = bpf_program__fd(prog), .rate = rate, .seconds = seconds };
	pthread_t th;
	if (pthread_create(&th, NULL, produce, &p))
		fail(PROG, "pthread_create failed");
	/* Consume until the producer is done and everything it made is accounted for, or
	 * nothing arrives for 500 ms after it finished. */
	double quiet_since = 0;
	for (;;) {
		int n = perf_buffer__poll(pb, 50);
		if (n < 0 && n != -EINTR)
			fail(PROG, "perf_buffer__poll: %s", strerror(-n));
		if (!atomic_load(&p.done))
			continue;
		if (c.received + c.lost >= p.produced)
			break;
		if (n > 0 || quiet_since == 0)
			quiet_since = now_sec();
		else if (now_sec() - quiet_since > 0.5)
			break;
	}
	pthread_join(th, NULL);
	printf("{\"impl\":\"libbpf\",\"rate\":%.0f,\"seconds\":%.3f,\"produced\":%llu,"
	       "\"produced_per_sec\":%.0f,\"received\":%llu,\"lost\":%llu,\"bad\":%llu}\n",
	       rate, p.elapsed, (unsigned long long)p.produced, (double)p.produced / p.elapsed,
	       (unsigned long long)c.received, (unsigned long long)c.lost, (unsigned long long)c.bad);
	perf_buffer__free(pb);
	bpf_object__close(obj);
	return c.bad ? 1 : 0;
}
