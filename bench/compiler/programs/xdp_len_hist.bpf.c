// SPDX-License-Identifier: GPL-2.0
// A log2 histogram (bcc's biolatency idiom: `slot = log2l(delta)`, clamped, one counter per
// slot) of a 64-bit value derived from the frame length, with bcc's branch-free log2 of
// bits.bpf.h.
#include "common.h"

#define MAX_SLOTS 27

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

static __always_inline __u64 log2(__u32 v)
{
	__u32 shift, r;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u64 log2l(__u64 v)
{
	__u32 hi = v >> 32;

	if (hi)
		return log2(hi) + 32;
	else
		return log2(v);
}

SEC("xdp")
int xdp_len_hist(struct xdp_md *ctx)
{
	__u64 v = (__u64)(ctx->data_end - ctx->data) << 26;
	__u32 slot = log2l(v);
	__u64 *c;

	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	c = bpf_map_lookup_elem(&hist, &slot);
	if (c)
		__sync_fetch_and_add(c, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
