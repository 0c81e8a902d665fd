// SPDX-License-Identifier: GPL-2.0
// Flow table: packets and bytes per IPv4 5-tuple in an LRU hash (lookup, else insert).
#include "common.h"

struct Flow {
	__u32 saddr; /* host order */
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad1;
	__u16 pad2;
};

struct Counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct Flow);
	__type(value, struct Counter);
} flows SEC(".maps");

SEC("xdp")
int xdp_flow_lru(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 len = data_end - data;
	struct Flow key = {};
	struct Counter *c;
	struct iphdr *ip;
	void *l4;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return XDP_PASS;
	l4 = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return XDP_PASS;
		key.sport = bpf_ntohs(tcp->source);
		key.dport = bpf_ntohs(tcp->dest);
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return XDP_PASS;
		key.sport = bpf_ntohs(udp->source);
		key.dport = bpf_ntohs(udp->dest);
	} else {
		return XDP_PASS;
	}
	key.saddr = bpf_ntohl(ip->saddr);
	key.daddr = bpf_ntohl(ip->daddr);
	key.proto = ip->protocol;
	c = bpf_map_lookup_elem(&flows, &key);
	if (!c) {
		struct Counter init = { .packets = 1, .bytes = len };

		bpf_map_update_elem(&flows, &key, &init, BPF_ANY);
		return XDP_PASS;
	}
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, len);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
