// xdp-tutorial basic04-pinning-maps (xdp_prog_kern.c, xdp_pass_func): packets and bytes per
// XDP action in a per-CPU array (no atomics: one CPU owns its slot), then the action.
import { program, map, xdp, PerCpuArrayMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { struct, u64 } from "tsbpf/types";

program({ license: "GPL" });

const DataRec = struct("datarec", { rx_packets: u64, rx_bytes: u64 });
const xdp_stats_map = map("xdp_stats_map", new PerCpuArrayMap(DataRec, { maxEntries: 5 }));

function record(ctx: XdpContext, action: XdpAction): XdpAction {
  const rec = xdp_stats_map.get(action);
  if (rec === null) return XdpAction.Aborted;
  rec.rx_packets += 1n;
  rec.rx_bytes += BigInt(ctx.len());
  return action;
}

export const xdp_pass_func = xdp((ctx) => record(ctx, XdpAction.Pass));
