// SPDX-License-Identifier: GPL-2.0
// trace_http_ringbuf: trace_http with a BPF ring buffer instead of a perf event array.
// Built by scripts/build-fixtures.sh into test/fixtures/obj/trace_http_ringbuf.o.
//
// Program: trace_http, SEC("xdp"), always returns XDP_PASS (2).
// Map:     requests, BPF_MAP_TYPE_RINGBUF, 256 KiB.
// Global:  __u64 dropped;  (.bss) requests lost because the ring buffer was full.
// Record:  fixed 532 bytes: the 20-byte MapData<RequestInfo> header (trace_http.h) followed
//          by a 512-byte area holding the first `size` bytes of the frame
//          (size = min(frame length, 512), copied with bpf_xdp_load_bytes); bytes past
//          `size` are zero. A ring buffer record's length must be a constant, hence the
//          fixed capture area; user space reads `size` to know how much is valid.
// A test should observe: the same as for trace_http.o, with records read from the ring
// buffer: HTTP payload = record bytes [20 + offset, 20 + size).
#include "trace_http.h"
#include <bpf/bpf_helpers.h>

#define TRACE_HTTP_MAX_CAPTURE 512
/* Ethernet + IPv4 + TCP + 6 payload bytes: parse_http() never accepts a shorter frame. */
#define TRACE_HTTP_MIN_FRAME 60

struct http_record {
	struct MapData_RequestInfo md;
	__u8 packet[TRACE_HTTP_MAX_CAPTURE];
};

__u64 dropped = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} requests SEC(".maps");

SEC("xdp")
int trace_http(struct xdp_md *ctx)
{
	struct MapData_RequestInfo md = {};
	struct http_record *rec;
	__u64 n = ctx->data_end - ctx->data;

	if (!parse_http(ctx, &md))
		return XDP_PASS;
	if (n > TRACE_HTTP_MAX_CAPTURE)
		n = TRACE_HTTP_MAX_CAPTURE;
	if (n < TRACE_HTTP_MIN_FRAME) /* cannot happen; tells the verifier n > 0 */
		return XDP_PASS;
	rec = bpf_ringbuf_reserve(&requests, sizeof(*rec), 0);
	if (!rec) {
		__sync_fetch_and_add(&dropped, 1);
		return XDP_PASS;
	}
	__builtin_memset(rec->packet, 0, sizeof(rec->packet));
	rec->md = md;
	rec->md.size = (__u32)n;
	if (bpf_xdp_load_bytes(ctx, 0, rec->packet, n) < 0) {
		bpf_ringbuf_discard(rec, 0);
		return XDP_PASS;
	}
	bpf_ringbuf_submit(rec, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
