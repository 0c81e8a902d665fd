// bpf-examples preserve-dscp (preserve_dscp_kern.c, read_dscp): remembers each flow's DSCP
// before encapsulation hides it — the IPv4 DSCP (TOS >> 2) or, as the original reads it, the
// whole IPv6 traffic class — in an LRU map keyed by the skb's flow hash; a flow without one
// is forgotten.
import { program, map, tc, LruHashMap, TcAction, helper } from "tsbpf/probe";
import { be16, struct, u8, u32, type Infer } from "tsbpf/types";

program({ license: "GPL" });

const flow_dscps = map("flow_dscps", new LruHashMap(u32, u8, { maxEntries: 16384 }));

const BPF_FUNC_get_hash_recalc = 34;
const BPF_FUNC_skb_load_bytes = 26;
/** the first 16 bits of an IPv6 header: version, traffic class, top of the flow label */
export const Word = struct("Word", { w: be16 });
type Word = Infer<typeof Word>;

export const read_dscp = tc((ctx) => {
  const key = Number(helper(BPF_FUNC_get_hash_recalc, ctx)) & 0xffffffff;
  let dscp = 0;
  const ip = ctx.packet().ip();
  if (ip !== null) {
    if (ip.version === 4) {
      if (ip.protocol > 0) dscp = ip.tos >> 2;
    } else if (ip.protocol > 0) {
      // the IPv6 view has no traffic class: load the header's first word
      const w: Word = { w: 0 };
      helper(BPF_FUNC_skb_load_bytes, ctx, ip.offset(), w, 2);
      dscp = (w.w >> 4) & 0xff;
    }
  }
  if (dscp !== 0) flow_dscps.set(key, dscp);
  else flow_dscps.delete(key);
  return TcAction.Ok;
});
