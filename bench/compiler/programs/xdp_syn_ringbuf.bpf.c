// SPDX-License-Identifier: GPL-2.0
// Reports each TCP SYN (without ACK) over IPv4 through a ring buffer.
#include "common.h"

struct SynEvent {
	__u32 saddr; /* host order */
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u16 window;
	__u8 ttl;
	__u8 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 18);
} syns SEC(".maps");

SEC("xdp")
int xdp_syn_ringbuf(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct tcphdr *tcp;
	struct SynEvent ev;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5 ||
	    ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) > data_end || !tcp->syn || tcp->ack)
		return XDP_PASS;
	ev.saddr = bpf_ntohl(ip->saddr);
	ev.daddr = bpf_ntohl(ip->daddr);
	ev.sport = bpf_ntohs(tcp->source);
	ev.dport = bpf_ntohs(tcp->dest);
	ev.window = bpf_ntohs(tcp->window);
	ev.ttl = ip->ttl;
	ev.pad = 0;
	bpf_ringbuf_output(&syns, &ev, sizeof(ev), 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
