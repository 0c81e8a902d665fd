// SPDX-License-Identifier: GPL-2.0
// Bounded loop: drops IPv4 packets whose destination falls in a blocked /32, /24, /16 or /8
// network, probing a hash set of network addresses from the longest prefix down.
#include "common.h"

/* key: network address (host order, host bits zero) of a blocked /32, /24, /16 or /8 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} blocked SEC(".maps");

SEC("xdp")
int xdp_prefix_block(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 daddr, mask = 0xffffffff;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->version != 4)
		return XDP_PASS;
	daddr = bpf_ntohl(ip->daddr);
	for (int i = 0; i < 4; i++) {
		__u32 net = daddr & mask;

		if (bpf_map_lookup_elem(&blocked, &net))
			return XDP_DROP;
		mask <<= 8;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
