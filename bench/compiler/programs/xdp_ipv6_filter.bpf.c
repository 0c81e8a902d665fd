// SPDX-License-Identifier: GPL-2.0
// IPv6 filter: drops packets whose hop limit is exhausted and packets from blocked /64
// source prefixes (a hash set keyed by the upper 64 bits of the address, as a number).
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} blocked64 SEC(".maps");

SEC("xdp")
int xdp_ipv6_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6;
	__u64 prefix;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
		return XDP_PASS;
	if (ip6->hop_limit <= 1)
		return XDP_DROP;
	prefix = bpf_be64_to_cpu(*(__u64 *)&ip6->saddr);
	return bpf_map_lookup_elem(&blocked64, &prefix) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
