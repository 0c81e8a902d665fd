// TC classifier: packets and bytes per IP version (0 other, 1 IPv4, 2 IPv6) in a per-CPU
// array, so plain increments suffice.
import { program, map, tc, PerCpuArrayMap, TcAction, toBigInt, type TcContext } from "tsbpf/probe";
import { struct, u64 } from "tsbpf/types";

program({ license: "GPL" });

const Counter = struct("Counter", { packets: u64, bytes: u64 });
const traffic = map("traffic", new PerCpuArrayMap(Counter, { maxEntries: 3 }));

export const tc_bytes = tc((ctx: TcContext) => {
  const ip = ctx.packet().ip();
  const slot = ip === null ? 0 : ip.version === 4 ? 1 : 2;
  const c = traffic.get(slot);
  if (c !== null) {
    c.packets += 1n;
    c.bytes += toBigInt(ctx.len);
  }
  return TcAction.Ok;
});
