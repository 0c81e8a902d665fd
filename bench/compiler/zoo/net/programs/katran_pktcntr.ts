// Katran's xdp_pktcntr.c (katran/lib/bpf): when slot 0 of the control array is non-zero,
// counts every packet in slot 0 of a per-CPU counter array; always XDP_PASS.
import { program, map, xdp, ArrayMap, PerCpuArrayMap, XdpAction } from "tsbpf/probe";
import { u32, u64 } from "tsbpf/types";

program({ license: "GPL" });

const ctl_array = map("ctl_array", new ArrayMap(u32, { maxEntries: 2 }));
const cntrs_array = map("cntrs_array", new PerCpuArrayMap(u64, { maxEntries: 512 }));

export const pktcntr = xdp(() => {
  const flag = ctl_array.get(0);
  if (!flag) return XdpAction.Pass;
  // A scalar map value is read by value; `add` is the in-place increment (an atomic one —
  // the C's plain `*cntr_val += 1` on the per-CPU slot has no TS spelling).
  cntrs_array.add(0, 1n);
  return XdpAction.Pass;
});
