// SPDX-License-Identifier: GPL-2.0
// trace_http: the HTTP request tracer of the RedBPF blog post, in C with libbpf conventions.
// Built by scripts/build-fixtures.sh into test/fixtures/obj/trace_http.o.
//
// Program: trace_http, SEC("xdp"), always returns XDP_PASS (2).
// Map:     requests, BPF_MAP_TYPE_PERF_EVENT_ARRAY, 1024 entries (as RedBPF's
//          PerfMap::with_max_entries(1024)), key/value u32.
// For every IPv4/IPv6 TCP segment whose payload starts with an HTTP method (trace_http.h),
// it emits one perf sample: the 20-byte MapData<RequestInfo> header followed by the whole
// frame (bpf_perf_event_output with BPF_F_CURRENT_CPU | frame_len << 32 appends frame_len
// bytes of the packet after the header). size = frame length, offset = HTTP payload offset.
// A test should observe: attached to one end of a veth pair in a test netns, an HTTP
// "GET /x HTTP/1.1" request sent across it yields a sample whose saddr/daddr/ports match the
// connection and whose bytes [20 + offset, 20 + size) start with "GET /x HTTP/1.1\r\n".
// (The kernel pads raw perf samples to 8-byte alignment: raw size = round_up(20 + size + 4,
// 8) - 4, trailing bytes past 20 + size are padding.)
#include "trace_http.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} requests SEC(".maps");

SEC("xdp")
int trace_http(struct xdp_md *ctx)
{
	struct MapData_RequestInfo md = {};
	__u64 frame_len = ctx->data_end - ctx->data;

	if (!parse_http(ctx, &md))
		return XDP_PASS;
	md.size = (__u32)frame_len;
	bpf_perf_event_output(ctx, &requests, BPF_F_CURRENT_CPU | (frame_len << 32), &md,
			      sizeof(md));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
