// SPDX-License-Identifier: GPL-2.0
// log_bench: the C side of the probe-logging benchmark (bench/log.ts, bench/README.md).
// Four XDP programs, each logging the frame length and a port once per run, run with
// BPF_PROG_TEST_RUN:
//   c_none         no log (the baseline the others are compared with)
//   c_printk       bpf_printk("len %d port %d") — bpf_trace_printk into the trace buffer
//   c_aya_disabled aya-log's shape, level filtered out: a level global test, nothing else
//   c_aya_enabled  aya-log's shape, level let through: the record built in a per-CPU buffer
//                  as aya-log-ebpf builds it — a header of type-length-value fields (target,
//                  level, module, file, line, argument count) then each argument as a TLV —
//                  and copied out with bpf_ringbuf_output, as aya-log's AYA_LOGS ring does.
// Written for this benchmark from aya-log's documented record layout; no aya code is used.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} aya_logs SEC(".maps");

#define LOG_BUF 256
struct log_buf { __u8 b[LOG_BUF]; };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct log_buf);
} aya_log_buf SEC(".maps");

/* what user space sets: 0 off … 3 info … 5 trace (aya-log's Level + 1) */
volatile __u32 aya_log_level SEC(".data.aya_log") = 3;

enum { T_TARGET = 1, T_LEVEL, T_MODULE, T_FILE, T_LINE, T_NUM_ARGS };
enum { A_U64 = 1 };

static __always_inline int put_str(__u8 *b, int at, __u8 tag, const char *s, int n)
{
	b[at] = tag;
	b[at + 1] = n & 0xff;
	b[at + 2] = n >> 8;
	__builtin_memcpy(&b[at + 3], s, n);
	return at + 3 + n;
}

static __always_inline int put_u64(__u8 *b, int at, __u8 tag, __u64 v)
{
	b[at] = tag;
	b[at + 1] = 8;
	b[at + 2] = 0;
	__builtin_memcpy(&b[at + 3], &v, 8);
	return at + 11;
}

static __always_inline void aya_log(__u32 level, __u64 a, __u64 c)
{
	if (aya_log_level < level)
		return;
	__u32 zero = 0;
	struct log_buf *buf = bpf_map_lookup_elem(&aya_log_buf, &zero);
	if (!buf)
		return;
	__u8 *b = buf->b;
	int at = 0;
	at = put_str(b, at, T_TARGET, "log_bench", 9);
	at = put_u64(b, at, T_LEVEL, level);
	at = put_str(b, at, T_MODULE, "log_bench", 9);
	at = put_str(b, at, T_FILE, "src/main.rs", 11);
	at = put_u64(b, at, T_LINE, 42);
	at = put_u64(b, at, T_NUM_ARGS, 4);
	at = put_str(b, at, A_U64 + 10, "len ", 4); /* display hint + literal, as aya-log sends */
	at = put_u64(b, at, A_U64, a);
	at = put_str(b, at, A_U64 + 10, " port ", 6);
	at = put_u64(b, at, A_U64, c);
	bpf_ringbuf_output(&aya_logs, b, at, 0);
}

static __always_inline __u64 port(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex + 8080;
}

SEC("xdp")
int c_none(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int c_printk(struct xdp_md *ctx)
{
	bpf_printk("len %d port %d", ctx->data_end - ctx->data, port(ctx));
	return XDP_PASS;
}

SEC("xdp")
int c_aya_disabled(struct xdp_md *ctx)
{
	aya_log(5 /* trace */, ctx->data_end - ctx->data, port(ctx));
	return XDP_PASS;
}

SEC("xdp")
int c_aya_enabled(struct xdp_md *ctx)
{
	aya_log(3 /* info */, ctx->data_end - ctx->data, port(ctx));
	return XDP_PASS;
}
