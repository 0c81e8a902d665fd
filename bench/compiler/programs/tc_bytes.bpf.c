// SPDX-License-Identifier: GPL-2.0
// TC classifier: packets and bytes per IP version (0 other, 1 IPv4, 2 IPv6) in a per-CPU
// array, so plain increments suffice.
#include "common.h"

struct Counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct Counter);
} traffic SEC(".maps");

static __always_inline __u32 ip_slot(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		return (void *)(ip + 1) <= data_end && ip->version == 4 ? 1 : 0;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		return (void *)(ip6 + 1) <= data_end && ip6->version == 6 ? 2 : 0;
	}
	return 0;
}

SEC("tc")
int tc_bytes(struct __sk_buff *skb)
{
	__u32 slot = ip_slot(skb);
	struct Counter *c = bpf_map_lookup_elem(&traffic, &slot);

	if (c) {
		c->packets++;
		c->bytes += skb->len;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
