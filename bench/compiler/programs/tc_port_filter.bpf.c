// SPDX-License-Identifier: GPL-2.0
// TC ingress filter: drops (TC_ACT_SHOT) UDP datagrams whose destination port is in a hash
// set, over IPv4 or IPv6.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u8);
} blocked_ports SEC(".maps");

SEC("tc")
int tc_port_filter(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u32 port;
	__u8 proto;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
			return TC_ACT_OK;
		proto = ip->protocol;
		udp = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return TC_ACT_OK;
		proto = ip6->nexthdr;
		udp = (void *)(ip6 + 1);
	} else {
		return TC_ACT_OK;
	}
	if (proto != IPPROTO_UDP || (void *)(udp + 1) > data_end)
		return TC_ACT_OK;
	port = bpf_ntohs(udp->dest);
	return bpf_map_lookup_elem(&blocked_ports, &port) ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
