// Aggregations read out of maps, drawn in the terminal: log2 and linear histograms in the
// layout of BCC's print_log2_hist / print_linear_hist (optionally one per key, with a header
// line per key), and counters sorted by count (bpftrace's count() print). Pure: numbers in,
// lines out. What counts as a histogram or a counter map is decided from the map's BTF by
// `classifyMap` (see docs/inspect.md#aggregations).
import type { Btf, BtfType } from "../obj/btf.js";
import { BtfIntEncoding } from "../obj/btf.js";
import type { BtfValue } from "../obj/btf-value.js";

const BAR = 40;

function stars(count: bigint, max: bigint, width = BAR): string {
  if (max <= 0n) return " ".repeat(width);
  const n = Number((count * BigInt(width)) / max);
  const full = Math.min(n, width);
  // BCC marks a bar cut at the width with '+'
  return (count > max ? "*".repeat(width - 1) + "+" : "*".repeat(full)).padEnd(width);
}

const big = (v: number | bigint): bigint => (typeof v === "bigint" ? v : BigInt(Math.trunc(v)));

/** The [low, high] values bucket `i` of a log2 histogram counts: 0 → [0, 0], i → [2^(i−1), 2^i − 1]. */
export function log2Range(i: number): [bigint, bigint] {
  if (i === 0) return [0n, 0n];
  return [1n << BigInt(i - 1), (1n << BigInt(i)) - 1n];
}

/** The bucket a value falls in (what a probe computes: 0 for 0, else ⌊log2 v⌋ + 1). */
export function log2Bucket(v: bigint): number {
  if (v <= 0n) return 0;
  return v.toString(2).length;
}

/**
 * BCC's print_log2_hist: one row per bucket from the first to the last non-empty one,
 * `low -> high : count |****  |`. `label` names the unit column ("usecs", "bytes").
 */
export function renderLog2Hist(buckets: readonly (number | bigint)[], label = "value"): string[] {
  const counts = buckets.map(big);
  const first = counts.findIndex((c) => c !== 0n);
  if (first < 0) return [`(no ${label} counted yet)`];
  let last = counts.length - 1;
  while (counts[last] === 0n) last--;
  const rows = counts
    .slice(first, last + 1)
    .map((c, j) => ({ range: log2Range(first + j), count: c }));
  return table(rows, label);
}

/**
 * A linear histogram: bucket i counts [start + i·step, start + (i+1)·step − 1]; BCC's
 * print_linear_hist prints one value per row, as here when step is 1.
 */
export function renderLinearHist(
  buckets: readonly (number | bigint)[],
  start: number | bigint,
  step: number | bigint,
  label = "value",
): string[] {
  const counts = buckets.map(big);
  const s0 = big(start);
  const st = big(step);
  const first = counts.findIndex((c) => c !== 0n);
  if (first < 0) return [`(no ${label} counted yet)`];
  let last = counts.length - 1;
  while (counts[last] === 0n) last--;
  const rows = counts.slice(first, last + 1).map((c, j) => {
    const low = s0 + BigInt(first + j) * st;
    return { range: [low, low + st - 1n] as [bigint, bigint], count: c };
  });
  return table(rows, label);
}

function table(rows: { range: [bigint, bigint]; count: bigint }[], label: string): string[] {
  const max = rows.reduce((m, r) => (r.count > m ? r.count : m), 0n);
  const single = rows.every((r) => r.range[0] === r.range[1]);
  const lowW = Math.max(...rows.map((r) => String(r.range[0]).length));
  const highW = Math.max(...rows.map((r) => String(r.range[1]).length));
  const rangeW = single ? lowW : lowW + 4 + highW;
  const countW = Math.max(8, ...rows.map((r) => String(r.count).length));
  const labelW = Math.max(rangeW, label.length);
  const head = `${label.padStart(Math.ceil((labelW + label.length) / 2)).padEnd(labelW)} : ${"count".padEnd(countW)} distribution`;
  return [
    head,
    ...rows.map(({ range: [low, high], count }) => {
      const range = single
        ? String(low).padStart(lowW)
        : `${String(low).padStart(lowW)} -> ${String(high).padEnd(highW)}`;
      return `${range.padStart(labelW)} : ${String(count).padEnd(countW)} |${stars(count, max)}|`;
    }),
  ];
}

/** Counters sorted by count, highest first; `top` rows at most (0: all). */
export function renderCounters(
  entries: readonly { key: string; count: number | bigint }[],
  top = 0,
): string[] {
  const sorted = [...entries]
    .map((e) => ({ key: e.key, count: big(e.count) }))
    .sort((a, b) => (b.count > a.count ? 1 : b.count < a.count ? -1 : a.key < b.key ? -1 : 1));
  const shown = top > 0 ? sorted.slice(0, top) : sorted;
  if (shown.length === 0) return ["(empty)"];
  const keyW = Math.max(...shown.map((e) => e.key.length));
  const lines = shown.map((e) => `${e.key.padEnd(keyW)}  ${e.count}`);
  if (shown.length < sorted.length) lines.push(`… ${sorted.length - shown.length} more`);
  return lines;
}

// ---- what a map holds, from its BTF ----

export type MapShape =
  | { kind: "counter" }
  | { kind: "log2"; field?: string }
  | { kind: "linear"; field: string; start: string; step: string }
  | { kind: "other" };

function strip(btf: Btf, id: number): BtfType {
  for (let n = 0; n < 32; n++) {
    const t = btf.typeById(id);
    if (
      t.kind === "typedef" ||
      t.kind === "const" ||
      t.kind === "volatile" ||
      t.kind === "restrict" ||
      t.kind === "type_tag"
    )
      id = t.type;
    else return t;
  }
  return btf.typeById(0);
}

const isInt = (t: BtfType): boolean =>
  t.kind === "int" &&
  (t.encoding & BtfIntEncoding.BOOL) === 0 &&
  (t.encoding & BtfIntEncoding.CHAR) === 0;

function isIntArray(btf: Btf, t: BtfType): boolean {
  // 1-byte elements are text (char) or bytes (an address), not counts
  if (t.kind !== "array" || t.nelems < 2) return false;
  const e = strip(btf, t.type);
  return isInt(e) && e.kind === "int" && e.size > 1;
}

/**
 * How to print a map by its value type: an integer value is a counter (summed over CPUs for
 * per-CPU maps); an integer array, or a struct whose only member is an integer array named
 * `slots` (libbpf-tools' `struct hist`), is a log2 histogram; a struct with integer members
 * `start` (or `min`) and `step` beside `slots` is a linear histogram. Anything else: "other".
 */
export function classifyMap(btf: Btf, valueType: number): MapShape {
  if (valueType === 0) return { kind: "other" };
  const t = strip(btf, valueType);
  if (isInt(t)) return { kind: "counter" };
  if (isIntArray(btf, t)) return { kind: "log2" };
  if (t.kind !== "struct") return { kind: "other" };
  const byName = new Map(t.members.map((m) => [m.name, strip(btf, m.type)]));
  const slots = byName.get("slots");
  if (!slots || !isIntArray(btf, slots)) return { kind: "other" };
  if (t.members.length === 1) return { kind: "log2", field: "slots" };
  const start = byName.has("start") ? "start" : byName.has("min") ? "min" : undefined;
  if (
    start &&
    byName.has("step") &&
    isInt(byName.get(start)!) &&
    isInt(byName.get("step")!) &&
    t.members.length === 3
  )
    return { kind: "linear", field: "slots", start, step: "step" };
  return { kind: "other" };
}

/** The bucket counts of a decoded histogram value (per-CPU values summed). */
export function histogramCounts(shape: MapShape, values: readonly BtfValue[]): bigint[] {
  const out: bigint[] = [];
  for (const v of values) {
    const arr =
      shape.kind !== "counter" && shape.kind !== "other" && shape.field
        ? (v as Record<string, BtfValue>)[shape.field]
        : v;
    (arr as BtfValue[]).forEach((c, i) => (out[i] = (out[i] ?? 0n) + big(c as number | bigint)));
  }
  return out;
}
