// SPDX-License-Identifier: GPL-2.0
// Payload signatures: FNV-1a over the first 16 payload bytes (TCP or UDP, IPv4 or IPv6);
// packets whose hash is in the `signatures` set are dropped.
#include "common.h"

#define PREFIX 16

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} signatures SEC(".maps");

static __always_inline __u8 *payload_of(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	void *l4;
	__u8 proto;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
			return NULL;
		proto = ip->protocol;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return NULL;
		proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return NULL;
	}
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end || tcp->doff < 5)
			return NULL;
		return (__u8 *)tcp + tcp->doff * 4;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return NULL;
		return (__u8 *)(udp + 1);
	}
	return NULL;
}

SEC("xdp")
int xdp_payload_hash(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = payload_of((void *)(long)ctx->data, data_end);
	__u32 h = 0x811c9dc5;

	if (!p || (void *)(p + PREFIX) > data_end)
		return XDP_PASS;
#pragma unroll
	for (int i = 0; i < PREFIX; i++)
		h = (h ^ p[i]) * 0x01000193;
	return bpf_map_lookup_elem(&signatures, &h) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
