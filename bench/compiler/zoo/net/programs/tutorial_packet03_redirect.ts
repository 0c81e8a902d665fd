// xdp-tutorial packet03-redirecting, assignment 2 (packet-solutions/xdp_prog_kern_03.c,
// xdp_redirect_func): sets the destination MAC and redirects with bpf_redirect to a fixed
// interface. The published solution leaves both as placeholders (an all-zero MAC, ifindex 0),
// so that is what both sides do; the verdict is counted per action.
import {
  program,
  map,
  xdp,
  PerCpuArrayMap,
  XdpAction,
  redirect,
  type XdpContext,
} from "tsbpf/probe";
import { struct, u64 } from "tsbpf/types";

program({ license: "GPL" });

const DataRec = struct("datarec", { rx_packets: u64, rx_bytes: u64 });
const xdp_stats_map = map("xdp_stats_map", new PerCpuArrayMap(DataRec, { maxEntries: 5 }));

const DST_MAC = 0n;
const IFINDEX = 0;

function record(ctx: XdpContext, action: XdpAction): XdpAction {
  const rec = xdp_stats_map.get(action);
  if (rec === null) return XdpAction.Aborted;
  rec.rx_packets += 1n;
  rec.rx_bytes += BigInt(ctx.len());
  return action;
}

export const xdp_redirect_func = xdp((ctx) => {
  const eth = ctx.eth();
  if (eth === null) return record(ctx, XdpAction.Pass);
  eth.dst = DST_MAC;
  const action: XdpAction = redirect(IFINDEX, 0);
  return record(ctx, action);
});
