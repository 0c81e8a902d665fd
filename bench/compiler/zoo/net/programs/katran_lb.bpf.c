// SPDX-License-Identifier: GPL-2.0
/*
 * katran_lb: a reduction of Katran's XDP load balancer (facebookincubator/katran,
 * katran/lib/bpf/balancer.bpf.c and the headers it includes), written for the tsbpf zoo
 * because the original does not build standalone here (its sizes and features are chosen by
 * Katran's build: map-in-map per-CPU LRUs, QUIC/TCP server-id routing, ...). It keeps the
 * core IPv4 path as the original spells it:
 *   balancer_ingress: total/pass/drop/tx counters in `stats` at MAX_VIPS + k;
 *   process_packet: IPv4 only with a 20-byte header, fragments dropped, TCP/UDP ports (SYN
 *   noted), the VIP lookup by (address, port, protocol) then by port 0, the size limit,
 *   the LRU-miss counters, the consistent-hash pick (jhash_2words of source address and
 *   ports, modulo RING_SIZE, into the VIP's slice of ch_rings) of a real, per-VIP and
 *   per-real packet/byte counters, IPIP encapsulation (encap_v4 / create_v4_hdr with
 *   ipv4_csum_inline) after bpf_xdp_adjust_head, XDP_TX.
 * Left out (so: not what Katran does with such packets): IPv6 (passed), ICMP (passed; Katran
 * answers echo requests and routes errors by the inner header), the connection LRU (every
 * packet is hashed), QUIC/TCP server-id routing, source routing, IPv6 reals (dropped), GUE.
 * Sizes are smaller than Katran's defaults so the maps fit a test machine: MAX_VIPS 16,
 * RING_SIZE 257, MAX_REALS 256 (Katran reads them from -D flags the same way).
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_VIPS 32
#define RING_SIZE 257
#define MAX_REALS 256
#define CH_RINGS_SIZE (MAX_VIPS * RING_SIZE)
#define STATS_MAP_SIZE (MAX_VIPS * 2)
#define CTL_MAP_SIZE 16
#define INIT_JHASH_SEED CH_RINGS_SIZE
#define MAX_PCKT_SIZE 1514
#define PCKT_FRAGMENTED 65343
#define IPIP_V4_PREFIX 4268
#define DEFAULT_TTL 64
#define DEFAULT_TOS 0

#define LRU_CNTRS 0
#define LRU_MISS_CNTR 1
#define ENCAP_FAIL_CNTR 7
#define CH_DROP_STATS 9
#define XDP_TOTAL_CNTR 16
#define XDP_TX_CNTR 17
#define XDP_DROP_CNTR 18
#define XDP_PASS_CNTR 19

#define F_HASH_NO_SRC_PORT (1 << 0)
#define F_HASH_DPORT_ONLY (1 << 3)
#define F_HASH_SRC_DST_PORT (1 << 7)
#define F_IPV6 (1 << 0)
#define F_SYN_SET (1 << 1)

#define FURTHER_PROCESSING -1

struct flow_key {
	__be32 src;
	__be32 dst;
	union {
		__u32 ports;
		__u16 port16[2];
	};
	__u8 proto;
};

struct packet_description {
	struct flow_key flow;
	__u32 real_index;
	__u8 flags;
	__u8 tos;
};

struct vip_definition {
	union {
		__be32 vip;
		__be32 vipv6[4];
	};
	__u16 port;
	__u8 proto;
};

struct vip_meta {
	__u32 flags;
	__u32 vip_num;
};

struct real_definition {
	union {
		__be32 dst;
		__be32 dstv6[4];
	};
	__u8 flags;
};

struct ctl_value {
	union {
		__u64 value;
		__u32 ifindex;
		__u8 mac[6];
	};
};

struct lb_stats {
	__u64 v1;
	__u64 v2;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct vip_definition);
	__type(value, struct vip_meta);
	__uint(max_entries, MAX_VIPS);
} vip_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, CH_RINGS_SIZE);
} ch_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct real_definition);
	__uint(max_entries, MAX_REALS);
} reals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct lb_stats);
	__uint(max_entries, MAX_REALS);
} reals_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct lb_stats);
	__uint(max_entries, STATS_MAP_SIZE);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct ctl_value);
	__uint(max_entries, CTL_MAP_SIZE);
} ctl_array SEC(".maps");

/* Bob Jenkins' lookup3 final mix, as katran/lib/linux_includes/jhash.h has it */
static __always_inline __u32 rol32(__u32 word, unsigned int shift)
{
	return (word << shift) | (word >> ((-shift) & 31));
}

#define __jhash_final(a, b, c)                                                                 \
	{                                                                                      \
		c ^= b;                                                                        \
		c -= rol32(b, 14);                                                             \
		a ^= c;                                                                        \
		a -= rol32(c, 11);                                                             \
		b ^= a;                                                                        \
		b -= rol32(a, 25);                                                             \
		c ^= b;                                                                        \
		c -= rol32(b, 16);                                                             \
		a ^= c;                                                                        \
		a -= rol32(c, 4);                                                              \
		b ^= a;                                                                        \
		b -= rol32(a, 14);                                                             \
		c ^= b;                                                                        \
		c -= rol32(b, 24);                                                             \
	}

#define JHASH_INITVAL 0xdeadbeef

static __always_inline __u32 jhash_2words(__u32 a, __u32 b, __u32 initval)
{
	__u32 c = 0;

	initval += JHASH_INITVAL + (2 << 2);
	a += initval;
	b += initval;
	c += initval;
	__jhash_final(a, b, c);
	return c;
}

static __always_inline __u16 csum_fold_helper(__u64 csum)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		if (csum >> 16)
			csum = (csum & 0xffff) + (csum >> 16);
	}
	return ~csum;
}

static __always_inline void ipv4_csum_inline(void *iph, __u64 *csum)
{
	__u16 *next_iph_u16 = (__u16 *)iph;

#pragma clang loop unroll(full)
	for (int i = 0; i < sizeof(struct iphdr) >> 1; i++)
		*csum += *next_iph_u16++;
	*csum = csum_fold_helper(*csum);
}

static __always_inline void stat_add(__u32 key, __u64 v1, __u64 v2)
{
	struct lb_stats *s = bpf_map_lookup_elem(&stats, &key);

	if (s) {
		s->v1 += v1;
		s->v2 += v2;
	}
}

static __always_inline bool encap_v4(struct xdp_md *xdp, struct ctl_value *cval,
				     struct packet_description *pckt,
				     struct real_definition *dst, __u32 pkt_bytes)
{
	void *data, *data_end;
	struct ethhdr *new_eth, *old_eth;
	struct iphdr *iph;
	__u32 ip_suffix = bpf_htons(pckt->flow.port16[0]);
	__u32 ip_src;
	__u64 csum = 0;

	ip_suffix <<= 16;
	ip_suffix ^= pckt->flow.src;
	ip_src = (0xFFFF0000 & ip_suffix) | IPIP_V4_PREFIX;
	if (bpf_xdp_adjust_head(xdp, 0 - (int)sizeof(struct iphdr)))
		return false;
	data = (void *)(long)xdp->data;
	data_end = (void *)(long)xdp->data_end;
	new_eth = data;
	iph = data + sizeof(struct ethhdr);
	old_eth = data + sizeof(struct iphdr);
	if ((void *)(new_eth + 1) > data_end || (void *)(old_eth + 1) > data_end ||
	    (void *)(iph + 1) > data_end)
		return false;
	__builtin_memcpy(new_eth->h_dest, cval->mac, 6);
	__builtin_memcpy(new_eth->h_source, old_eth->h_dest, 6);
	new_eth->h_proto = bpf_htons(ETH_P_IP);

	iph->version = 4;
	iph->ihl = 5;
	iph->frag_off = 0;
	iph->protocol = IPPROTO_IPIP;
	iph->check = 0;
	iph->tos = DEFAULT_TOS;
	iph->tot_len = bpf_htons(pkt_bytes + sizeof(struct iphdr));
	iph->id = 0;
	iph->daddr = dst->dst;
	iph->saddr = ip_src;
	iph->ttl = DEFAULT_TTL;
	ipv4_csum_inline(iph, &csum);
	iph->check = csum;
	return true;
}

static __always_inline int process_packet(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *data_end = (void *)(long)xdp->data_end;
	struct packet_description pckt = {};
	struct vip_definition vip = {};
	struct real_definition *dst;
	struct vip_meta *vip_info;
	struct lb_stats *data_stats;
	struct ctl_value *cval;
	struct iphdr *iph = data + sizeof(struct ethhdr);
	__u32 mac_addr_pos = 0;
	__u16 original_sport;
	__u16 pkt_bytes;
	__u32 vip_num, key, hash;
	__u32 *real_pos;

	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;
	if (iph->ihl != 5)
		return XDP_DROP;
	pckt.tos = iph->tos;
	pckt.flow.proto = iph->protocol;
	pkt_bytes = bpf_ntohs(iph->tot_len);
	if (iph->frag_off & PCKT_FRAGMENTED)
		return XDP_DROP;
	if (pckt.flow.proto == IPPROTO_ICMP)
		return XDP_PASS;
	pckt.flow.src = iph->saddr;
	pckt.flow.dst = iph->daddr;

	if (pckt.flow.proto == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(iph + 1);

		if ((void *)(tcp + 1) > data_end)
			return XDP_DROP;
		if (tcp->syn)
			pckt.flags |= F_SYN_SET;
		pckt.flow.port16[0] = tcp->source;
		pckt.flow.port16[1] = tcp->dest;
	} else if (pckt.flow.proto == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(iph + 1);

		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		pckt.flow.port16[0] = udp->source;
		pckt.flow.port16[1] = udp->dest;
	} else {
		return XDP_PASS;
	}

	vip.vip = pckt.flow.dst;
	vip.port = pckt.flow.port16[1];
	vip.proto = pckt.flow.proto;
	vip_info = bpf_map_lookup_elem(&vip_map, &vip);
	if (!vip_info) {
		vip.port = 0;
		vip_info = bpf_map_lookup_elem(&vip_map, &vip);
		if (!vip_info)
			return XDP_PASS;
		if (!(vip_info->flags & F_HASH_DPORT_ONLY) &&
		    !(vip_info->flags & F_HASH_SRC_DST_PORT))
			pckt.flow.port16[1] = 0;
	}
	if (data_end - data > MAX_PCKT_SIZE)
		return XDP_DROP;

	key = MAX_VIPS + LRU_CNTRS;
	data_stats = bpf_map_lookup_elem(&stats, &key);
	if (!data_stats)
		return XDP_DROP;
	data_stats->v1 += 1;
	if (vip_info->flags & F_HASH_NO_SRC_PORT)
		pckt.flow.port16[0] = 0;
	vip_num = vip_info->vip_num;
	original_sport = pckt.flow.port16[0];

	if (pckt.flow.proto == IPPROTO_TCP) {
		if (pckt.flags & F_SYN_SET)
			stat_add(MAX_VIPS + LRU_MISS_CNTR, 1, 0);
		else
			stat_add(MAX_VIPS + LRU_MISS_CNTR, 0, 1);
	}
	/* get_packet_dst */
	if (vip_info->flags & F_HASH_DPORT_ONLY) {
		pckt.flow.port16[0] = pckt.flow.port16[1];
		pckt.flow.src = 0;
	}
	hash = jhash_2words(pckt.flow.src, pckt.flow.ports, INIT_JHASH_SEED) % RING_SIZE;
	key = RING_SIZE * vip_num + hash;
	real_pos = bpf_map_lookup_elem(&ch_rings, &key);
	if (!real_pos)
		return XDP_DROP;
	key = *real_pos;
	if (key == 0) {
		stat_add(MAX_VIPS + CH_DROP_STATS, 0, 1);
		return XDP_DROP;
	}
	pckt.real_index = key;
	dst = bpf_map_lookup_elem(&reals, &key);
	if (!dst) {
		stat_add(MAX_VIPS + CH_DROP_STATS, 1, 0);
		return XDP_DROP;
	}
	data_stats->v2 += 1;

	cval = bpf_map_lookup_elem(&ctl_array, &mac_addr_pos);
	if (!cval)
		return XDP_DROP;
	data_stats = bpf_map_lookup_elem(&stats, &vip_num);
	if (!data_stats)
		return XDP_DROP;
	data_stats->v1 += 1;
	data_stats->v2 += pkt_bytes;
	data_stats = bpf_map_lookup_elem(&reals_stats, &pckt.real_index);
	if (!data_stats)
		return XDP_DROP;
	data_stats->v1 += 1;
	data_stats->v2 += pkt_bytes;

	pckt.flow.port16[0] = original_sport;
	if (dst->flags & F_IPV6)
		return XDP_DROP;
	if (!encap_v4(xdp, cval, &pckt, dst, pkt_bytes)) {
		stat_add(MAX_VIPS + ENCAP_FAIL_CNTR, 1, 0);
		return XDP_DROP;
	}
	return XDP_TX;
}

SEC("xdp")
int balancer_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 data_len = data_end - data;
	struct lb_stats *data_stats;
	__u32 stats_key;
	int action;

	if (data + sizeof(struct ethhdr) > data_end)
		return XDP_DROP;
	stats_key = MAX_VIPS + XDP_TOTAL_CNTR;
	data_stats = bpf_map_lookup_elem(&stats, &stats_key);
	if (!data_stats)
		return XDP_DROP;
	data_stats->v1 += 1;
	data_stats->v2 += data_len;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		action = process_packet(ctx);
	else
		action = XDP_PASS;
	if (action == XDP_PASS)
		stats_key = MAX_VIPS + XDP_PASS_CNTR;
	else if (action == XDP_DROP)
		stats_key = MAX_VIPS + XDP_DROP_CNTR;
	else if (action == XDP_TX)
		stats_key = MAX_VIPS + XDP_TX_CNTR;
	data_stats = bpf_map_lookup_elem(&stats, &stats_key);
	if (!data_stats)
		return XDP_DROP;
	data_stats->v1 += 1;
	data_stats->v2 += data_len;
	return action;
}

char _license[] SEC("license") = "GPL";
