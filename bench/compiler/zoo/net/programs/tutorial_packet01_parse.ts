// xdp-tutorial packet01-parsing, as solved in packet02-rewriting/xdp_prog_kern.c
// (xdp_parser_func): drops ICMP and ICMPv6 echo requests with an even sequence number, passes
// everything else, and counts packets and bytes per verdict in a per-CPU array.
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

export const xdp_parser_func = xdp((ctx) => {
  const icmp = ctx.icmp();
  if (icmp === null) return record(ctx, XdpAction.Pass);
  const request = icmp.protocol === "icmp" ? 8 : 128;
  if (icmp.type === request && icmp.sequence % 2 === 0) return record(ctx, XdpAction.Drop);
  return record(ctx, XdpAction.Pass);
});
