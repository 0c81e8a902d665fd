// A log2 histogram (bcc's biolatency idiom: `slot = log2l(delta)`, clamped, one counter per
// slot) of a 64-bit value derived from the frame length, with bcc's branch-free log2 of
// bits.bpf.h: `>>>` by run-time counts, comparisons as 0/1, u32 arithmetic.
import { program, map, xdp, ArrayMap, XdpAction, toBigInt, type XdpContext } from "tsbpf/probe";
import { u64 } from "tsbpf/types";

program({ license: "GPL" });

const MAX_SLOTS = 27;
const hist = map("hist", new ArrayMap(u64, { maxEntries: MAX_SLOTS }));

/** floor(log2(v)) of a u32 (0 for 0). */
function log2(v: number): number {
  let r = Number(v > 0xffff) << 4;
  v >>>= r;
  let shift = Number(v > 0xff) << 3;
  v >>>= shift;
  r |= shift;
  shift = Number(v > 0xf) << 2;
  v >>>= shift;
  r |= shift;
  shift = Number(v > 0x3) << 1;
  v >>>= shift;
  r |= shift;
  r |= v >>> 1;
  return r;
}

/** floor(log2(v)) of a u64. */
function log2l(v: bigint): number {
  const hi = Number(v >> 32n);
  return hi !== 0 ? log2(hi) + 32 : log2(Number(v) >>> 0);
}

export const xdp_len_hist = xdp((ctx: XdpContext) => {
  const v = toBigInt(ctx.len()) << 26n;
  let slot = log2l(v);
  if (slot >= MAX_SLOTS) slot = MAX_SLOTS - 1;
  hist.add(slot, 1n);
  return XdpAction.Pass;
});
