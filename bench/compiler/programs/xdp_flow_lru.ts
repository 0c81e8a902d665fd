// Flow table: packets and bytes per IPv4 5-tuple in an LRU hash (lookup, else insert).
import {
  program,
  map,
  xdp,
  LruHashMap,
  XdpAction,
  atomicAdd,
  toBigInt,
  type XdpContext,
} from "tsbpf/probe";
import { struct, u8, u16, u32, u64 } from "tsbpf/types";

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
const Counter = struct("Counter", { packets: u64, bytes: u64 });
const flows = map("flows", new LruHashMap(Flow, Counter, { maxEntries: 4096 }));

export const xdp_flow_lru = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  const t = ctx.transport();
  if (ip === null || t === null || ip.version !== 4) return XdpAction.Pass;
  const key = {
    saddr: ip.saddr,
    daddr: ip.daddr,
    sport: t.source(),
    dport: t.dest(),
    proto: ip.protocol,
    pad1: 0,
    pad2: 0,
  };
  const len = ctx.len();
  const c = flows.get(key);
  if (c === null) {
    flows.set(key, { packets: 1n, bytes: toBigInt(len) });
    return XdpAction.Pass;
  }
  atomicAdd(c, "packets", 1);
  atomicAdd(c, "bytes", len);
  return XdpAction.Pass;
});
