/* SPDX-License-Identifier: GPL-2.0 */
/* Headers shared by the C side of the compiler benchmark (bench/compiler/README.md). Each
 * <name>.bpf.c is the program a libbpf developer would write for the same job as <name>.ts. */
#ifndef BENCH_COMPILER_COMMON_H
#define BENCH_COMPILER_COMMON_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#endif
