import { toNumber } from "tsbpf/probe";
// log2 of an integer, rounded down (0 for 0), as the C tools' bits.bpf.h computes the slot of
// a histogram: probe code, imported by the probes that keep log2 histograms.

/** floor(log2(v)) for a 32-bit v (0 for 0). */
export function log2(v: number): number {
  let r = v > 0xffff ? 16 : 0;
  v >>= r;
  let shift = v > 0xff ? 8 : 0;
  v >>= shift;
  r |= shift;
  shift = v > 0xf ? 4 : 0;
  v >>= shift;
  r |= shift;
  shift = v > 0x3 ? 2 : 0;
  v >>= shift;
  r |= shift;
  return r | (v >> 1);
}

/** floor(log2(v)) for a 64-bit v. */
export function log2l(v: bigint): number {
  const hi = toNumber(v >> 32n);
  return hi !== 0 ? log2(hi) + 32 : log2(toNumber(v & 0xffffffffn));
}
