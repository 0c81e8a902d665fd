// xdp-tutorial basic03-map-counter (xdp_prog_kern.c, xdp_stats1_func): counts packets in the
// XDP_PASS slot of an array map with an atomic add, then passes the frame.
import { program, map, xdp, ArrayMap, XdpAction, atomicAdd } from "tsbpf/probe";
import { struct, u64 } from "tsbpf/types";

program({ license: "GPL" });

const DataRec = struct("datarec", { rx_packets: u64 });
/** one record per XDP action (XDP_ABORTED … XDP_REDIRECT) */
const xdp_stats_map = map("xdp_stats_map", new ArrayMap(DataRec, { maxEntries: 5 }));

export const xdp_stats1_func = xdp(() => {
  const rec = xdp_stats_map.get(XdpAction.Pass);
  if (rec === null) return XdpAction.Aborted;
  atomicAdd(rec, "rx_packets", 1);
  return XdpAction.Pass;
});
