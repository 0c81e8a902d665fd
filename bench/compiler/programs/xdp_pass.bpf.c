// SPDX-License-Identifier: GPL-2.0
// Baseline: the smallest XDP program, a constant verdict.
#include "common.h"

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
