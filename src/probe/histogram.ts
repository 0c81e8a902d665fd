// Histogram maps (`map("lat", new Histogram({ slots: 32 }))`): a map whose values are bucket
// counts, drawn by `tsbpf load --interval` and `tsbpf map dump --aggregate` like BCC's
// print_log2_hist. Declared maps are found by src/compiler/module/histogram.ts; `record` is
// lowered by src/compiler/lower/histogram.ts.
import type { Infer, Type } from "../types/type.js";
import { kernelOnly, unused } from "./kernel-only.js";

/** How values fall into buckets. */
export interface HistogramOptions<K extends Type | undefined = undefined> {
  /**
   * Bucket count. log2 (default 32): slot 0 counts 0, slot i ≥ 1 counts 2^(i−1) … 2^i − 1, the
   * last slot everything above. Linear: slot i counts start + i·step … start + (i+1)·step − 1,
   * the first slot also what is below `start`, the last what is above.
   */
  slots?: number;
  /** linear buckets instead of log2 */
  linear?: { start: number; step: number };
  /** one histogram per key (a hash map of `maxEntries` keys): a struct, `u32` (pid), `array(u8, 16)` (comm) */
  key?: K;
  /** keys held (keyed histograms; default 1024) */
  maxEntries?: number;
}

/**
 * A histogram: `h.record(value)` (or `h.record(key, value)` when keyed) computes the bucket
 * and adds one to it atomically. Values compare unsigned (a negative number is huge: last
 * bucket of a log2 histogram).
 */
export class Histogram<K extends Type | undefined = undefined> {
  declare private readonly __kind: "histogram";
  constructor(options?: HistogramOptions<K>) {
    unused(options);
    kernelOnly();
  }
  /** Adds one to the bucket of `value` (of `key`'s histogram when keyed). */
  record(
    ...args: K extends Type ? [key: Infer<K>, value: number | bigint] : [value: number | bigint]
  ): void {
    unused(args);
    kernelOnly();
  }
}
