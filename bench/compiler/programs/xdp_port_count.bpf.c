// SPDX-License-Identifier: GPL-2.0
// Counts TCP segments and bytes per destination port (IPv4 and IPv6) in a hash map:
// the first packet of a port inserts its counter, later ones add to it atomically.
#include "common.h"

struct Counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct Counter);
} ports SEC(".maps");

SEC("xdp")
int xdp_port_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	struct Counter *c;
	__u64 len = data_end - data;
	__u32 port;
	__u8 proto;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
			return XDP_PASS;
		proto = ip->protocol;
		tcp = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return XDP_PASS;
		proto = ip6->nexthdr;
		tcp = (void *)(ip6 + 1);
	} else {
		return XDP_PASS;
	}
	if (proto != IPPROTO_TCP || (void *)(tcp + 1) > data_end)
		return XDP_PASS;
	port = bpf_ntohs(tcp->dest);
	c = bpf_map_lookup_elem(&ports, &port);
	if (!c) {
		struct Counter init = { .packets = 1, .bytes = len };

		bpf_map_update_elem(&ports, &port, &init, BPF_ANY);
		return XDP_PASS;
	}
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, len);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
