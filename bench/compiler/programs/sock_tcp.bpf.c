// SPDX-License-Identifier: GPL-2.0
// Socket filter: keeps TCP packets (IPv4 or IPv6) whole, drops everything else.
#include "common.h"

SEC("socket")
int sock_tcp(struct __sk_buff *skb)
{
	__u8 proto;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, offsetof(struct iphdr, protocol), &proto, 1))
			return 0;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, offsetof(struct ipv6hdr, nexthdr), &proto, 1))
			return 0;
	} else {
		return 0;
	}
	return proto == IPPROTO_TCP ? skb->len : 0;
}

char LICENSE[] SEC("license") = "GPL";
