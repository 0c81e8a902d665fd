// SPDX-License-Identifier: GPL-2.0
// The HTTP request tracer: TCP payloads (IPv4 or IPv6) that start with an HTTP method are
// reported through a perf map, with the whole frame appended to the record.
#include "common.h"

struct RequestInfo {
	__u32 saddr; /* IPv4, network order; 0 for IPv6 */
	__u32 daddr;
	__u16 sport; /* host order */
	__u16 dport;
};

struct request_event {
	struct RequestInfo data;
	__u32 offset; /* where the payload starts in the appended frame */
	__u32 size;   /* frame bytes appended */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} requests SEC(".maps");

static __always_inline int is_method(const char *p)
{
	return (p[0] == 'G' && p[1] == 'E' && p[2] == 'T' && p[3] == ' ') ||
	       (p[0] == 'H' && p[1] == 'E' && p[2] == 'A' && p[3] == 'D') ||
	       (p[0] == 'P' && p[1] == 'U' && p[2] == 'T' && p[3] == ' ') ||
	       (p[0] == 'P' && p[1] == 'O' && p[2] == 'S' && p[3] == 'T') ||
	       (p[0] == 'D' && p[1] == 'E' && p[2] == 'L' && p[3] == 'E' && p[4] == 'T' &&
		p[5] == 'E');
}

SEC("xdp")
int trace_http(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct request_event ev = {};
	struct tcphdr *tcp;
	char *payload;
	__u64 len;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5 ||
		    ip->protocol != IPPROTO_TCP)
			return XDP_PASS;
		ev.data.saddr = ip->saddr;
		ev.data.daddr = ip->daddr;
		tcp = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6 ||
		    ip6->nexthdr != IPPROTO_TCP)
			return XDP_PASS;
		tcp = (void *)(ip6 + 1);
	} else {
		return XDP_PASS;
	}
	if ((void *)(tcp + 1) > data_end || tcp->doff < 5)
		return XDP_PASS;
	payload = (char *)tcp + tcp->doff * 4;
	if ((void *)(payload + 6) > data_end || !is_method(payload))
		return XDP_PASS;
	len = data_end - data;
	ev.data.sport = bpf_ntohs(tcp->source);
	ev.data.dport = bpf_ntohs(tcp->dest);
	ev.offset = payload - (char *)data;
	ev.size = len;
	bpf_perf_event_output(ctx, &requests, BPF_F_CURRENT_CPU | (len << 32), &ev, sizeof(ev));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
