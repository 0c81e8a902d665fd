/* SPDX-License-Identifier: GPL-2.0 */
/* What the trace_http programs send to user space, and the packet parsing they share.
 *
 * Record layout (RedBPF's MapData<RequestInfo>, little-endian, 20 bytes, then packet bytes):
 *    0 saddr  u32  IPv4 source address, network byte order (0 for IPv6)
 *    4 daddr  u32  IPv4 destination address, network byte order (0 for IPv6)
 *    8 sport  u16  TCP source port, host byte order
 *   10 dport  u16  TCP destination port, host byte order
 *   12 offset u32  where the HTTP request starts, counted from the start of the Ethernet frame
 *   16 size   u32  number of frame bytes that follow this header
 *   20 ...         the first `size` bytes of the frame, starting at the Ethernet header
 * so the HTTP payload is bytes [20 + offset, 20 + size) of the record, and for IPv6 the
 * addresses are in the frame (ethertype at frame offset 12 = 0x86dd, addresses at 22/38).
 */
#ifndef TSBPF_TRACE_HTTP_H
#define TSBPF_TRACE_HTTP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>

struct RequestInfo {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
};

struct MapData_RequestInfo {
	struct RequestInfo data;
	__u32 offset;
	__u32 size;
};

/* Parses Ethernet / IPv4 or IPv6 (no extension headers) / TCP. When the TCP payload starts
 * with an HTTP request method, fills info and the payload offset and returns 1; else 0.
 * The test of RedBPF's example — at least 6 payload bytes, starting with "GET ", "HEAD",
 * "PUT ", "POST" or "DELETE" — plus "PATCH " and "OPTION" (OPTIONS). */
static __always_inline int parse_http(struct xdp_md *ctx, struct MapData_RequestInfo *md)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	__u8 *payload;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP || ip->ihl < 5)
			return 0;
		md->data.saddr = ip->saddr;
		md->data.daddr = ip->daddr;
		tcp = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP)
			return 0;
		md->data.saddr = 0;
		md->data.daddr = 0;
		tcp = (void *)(ip6 + 1);
	} else {
		return 0;
	}
	if ((void *)(tcp + 1) > data_end || tcp->doff < 5)
		return 0;
	payload = (__u8 *)tcp + tcp->doff * 4;
	if ((void *)(payload + 6) > data_end)
		return 0;
	if (!((payload[0] == 'G' && payload[1] == 'E' && payload[2] == 'T' && payload[3] == ' ') ||
	      (payload[0] == 'H' && payload[1] == 'E' && payload[2] == 'A' && payload[3] == 'D') ||
	      (payload[0] == 'P' && payload[1] == 'U' && payload[2] == 'T' && payload[3] == ' ') ||
	      (payload[0] == 'P' && payload[1] == 'O' && payload[2] == 'S' && payload[3] == 'T') ||
	      (payload[0] == 'D' && payload[1] == 'E' && payload[2] == 'L' && payload[3] == 'E' &&
	       payload[4] == 'T' && payload[5] == 'E') ||
	      (payload[0] == 'P' && payload[1] == 'A' && payload[2] == 'T' && payload[3] == 'C' &&
	       payload[4] == 'H' && payload[5] == ' ') ||
	      (payload[0] == 'O' && payload[1] == 'P' && payload[2] == 'T' && payload[3] == 'I' &&
	       payload[4] == 'O' && payload[5] == 'N')))
		return 0;
	md->data.sport = bpf_ntohs(tcp->source);
	md->data.dport = bpf_ntohs(tcp->dest);
	md->offset = (__u32)((void *)payload - data);
	return 1;
}

#endif
