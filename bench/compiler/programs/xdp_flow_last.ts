// Last-seen table: for each IPv4 5-tuple, the length and TCP flags of its latest packet,
// in an LRU hash (one update per packet).
import { program, map, xdp, LruHashMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { struct, u8, u16, u32 } from "tsbpf/types";

program({ license: "GPL" });

const Flow = struct("Flow", {
  saddr: u32,
  daddr: u32,
  sport: u16,
  dport: u16,
  proto: u8,
  pad1: u8,
  pad2: u16,
});
const Last = struct("Last", { len: u32, flags: u32 });
const flows = map("flows", new LruHashMap(Flow, Last, { maxEntries: 4096 }));

export const xdp_flow_last = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  const t = ctx.transport();
  if (ip === null || t === null || ip.version !== 4) return XdpAction.Pass;
  flows.set(
    {
      saddr: ip.saddr,
      daddr: ip.daddr,
      sport: t.source(),
      dport: t.dest(),
      proto: ip.protocol,
      pad1: 0,
      pad2: 0,
    },
    { len: ctx.len(), flags: t.protocol === "tcp" ? t.flags : 0 },
  );
  return XdpAction.Pass;
});
