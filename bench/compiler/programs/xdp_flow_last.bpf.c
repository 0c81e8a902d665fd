// SPDX-License-Identifier: GPL-2.0
// Last-seen table: for each IPv4 5-tuple, the length and TCP flags of its latest packet,
// in an LRU hash (one update per packet).
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

struct Last {
	__u32 len;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct Flow);
	__type(value, struct Last);
} flows SEC(".maps");

SEC("xdp")
int xdp_flow_last(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct Flow key = {};
	struct Last last = {};
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
		last.flags = ((__u8 *)tcp)[13];
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
	last.len = data_end - data;
	bpf_map_update_elem(&flows, &key, &last, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
