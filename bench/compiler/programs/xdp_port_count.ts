// Counts TCP segments and bytes per destination port (IPv4 and IPv6) in a hash map:
// the first packet of a port inserts its counter, later ones add to it atomically.
import {
  program,
  map,
  xdp,
  HashMap,
  XdpAction,
  atomicAdd,
  toBigInt,
  type XdpContext,
} from "tsbpf/probe";
import { struct, u32, u64 } from "tsbpf/types";

program({ license: "GPL" });

const Counter = struct("Counter", { packets: u64, bytes: u64 });
const ports = map("ports", new HashMap(u32, Counter, { maxEntries: 1024 }));

export const xdp_port_count = xdp((ctx: XdpContext) => {
  const t = ctx.transport();
  if (t === null || t.protocol !== "tcp") return XdpAction.Pass;
  const port = t.dest();
  const len = ctx.len();
  const c = ports.get(port);
  if (c === null) {
    ports.set(port, { packets: 1n, bytes: toBigInt(len) });
    return XdpAction.Pass;
  }
  atomicAdd(c, "packets", 1);
  atomicAdd(c, "bytes", len);
  return XdpAction.Pass;
});
