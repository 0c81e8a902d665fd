// bpf-examples preserve-dscp (preserve_dscp_kern.c, write_dscp): after encapsulation, writes
// the DSCP remembered for the flow (by skb->hash) into the outer IPv4 header — the ECN bits
// kept, the header checksum patched incrementally as the original does — or the IPv6 traffic
// class.
import { program, map, tc, LruHashMap, TcAction, helper } from "tsbpf/probe";
import { be16, struct, u8, u32, type Infer } from "tsbpf/types";

program({ license: "GPL" });

const flow_dscps = map("flow_dscps", new LruHashMap(u32, u8, { maxEntries: 16384 }));

const INET_ECN_MASK = 3;
const BPF_FUNC_skb_load_bytes = 26;
export const Word = struct("Word", { w: be16 });
type Word = Infer<typeof Word>;

export const write_dscp = tc((ctx) => {
  const dscp = flow_dscps.get(ctx.hash);
  if (dscp === null) return TcAction.Ok;
  const value = (dscp << 2) & 0xff;
  const ip = ctx.packet().ip();
  if (ip === null) return TcAction.Ok;
  if (ip.version === 4) {
    if (ip.protocol === 0) return TcAction.Ok;
    // ipv4_change_dsfield, in the original's u32 arithmetic
    const ds = (ip.tos & INET_ECN_MASK) | value;
    let check = ip.checksum + ip.tos;
    if ((check + 1) >> 16 !== 0) check = (check + 1) & 0xffff;
    check = (check - ds) >>> 0;
    check = (check + (check >>> 16)) >>> 0;
    ip.checksum = check & 0xffff;
    ip.tos = ds;
    return TcAction.Ok;
  }
  if (ip.protocol === 0) return TcAction.Ok;
  // ipv6_change_dsfield: the traffic class sits across the first two bytes; the IPv6 view
  // cannot write it, bpf_skb_store_bytes can
  const at = ip.offset();
  const w: Word = { w: 0 };
  helper(BPF_FUNC_skb_load_bytes, ctx, at, w, 2);
  ctx.storeBytes(at, (w.w & ((INET_ECN_MASK << 4) | 0xf00f)) | (value << 4), 2);
  return TcAction.Ok;
});
