// Counter and histogram maps read and drawn (`tsbpf load --interval`, `tsbpf map dump
// --aggregate`): every entry decoded with the map's kernel BTF, per-CPU values summed,
// counters sorted by count, histograms drawn per key.
import { btfValueText, type BtfValue } from "../obj/btf-value.js";
import { mapEntries } from "./map-entries.js";
import {
  classifyMap,
  histogramCounts,
  renderCounters,
  renderLinearHist,
  renderLog2Hist,
  type MapShape,
} from "./hist.js";
import type { OpenMap } from "./system.js";
import { MapType } from "../obj/consts.js";

export interface Aggregate {
  map: string;
  id: number;
  kind: "counter" | "log2" | "linear";
  /** counters: one per key, highest first */
  counters?: { key: BtfValue; count: bigint }[];
  /** histograms: one per key (key undefined for a single-entry array) */
  histograms?: { key?: BtfValue; buckets: bigint[]; start?: bigint; step?: bigint }[];
}

/** How a map's values aggregate, or undefined when they are not counters or histograms. */
export function aggregateShape(m: OpenMap): MapShape | undefined {
  if (!m.btf || !m.btf.valueType) return undefined;
  const shape = classifyMap(m.btf.btf, m.btf.valueType);
  return shape.kind === "other" ? undefined : shape;
}

const valuesOf = (e: {
  formatted?: { value?: BtfValue; values?: { value: BtfValue }[] };
}): BtfValue[] | undefined =>
  e.formatted?.values
    ? e.formatted.values.map((v) => v.value)
    : e.formatted?.value !== undefined
      ? [e.formatted.value]
      : undefined;

/** The map's counters or histograms now; undefined when it holds neither. */
export function readAggregate(m: OpenMap): Aggregate | undefined {
  const shape = aggregateShape(m);
  if (!shape || shape.kind === "other") return undefined;
  const name = m.info.name;
  const single =
    (m.info.type === MapType.ARRAY || m.info.type === MapType.PERCPU_ARRAY) &&
    m.info.maxEntries === 1;
  if (shape.kind === "counter") {
    const counters: { key: BtfValue; count: bigint }[] = [];
    for (const e of mapEntries(m)) {
      const vals = valuesOf(e);
      if (!vals) continue;
      const count = vals.reduce<bigint>((s, v) => s + BigInt(v as number | bigint), 0n);
      // arrays hold every index: leave out the zero slots, as bpftrace prints only what counted
      if (count === 0n && (m.info.type === MapType.ARRAY || m.info.type === MapType.PERCPU_ARRAY))
        continue;
      counters.push({ key: e.formatted?.key ?? hexKey(e.key), count });
    }
    counters.sort((a, b) => (b.count > a.count ? 1 : b.count < a.count ? -1 : 0));
    return { map: name, id: m.info.id, kind: "counter", counters };
  }
  const histograms: NonNullable<Aggregate["histograms"]> = [];
  for (const e of mapEntries(m)) {
    const vals = valuesOf(e);
    if (!vals) continue;
    const buckets = histogramCounts(shape, vals);
    if (!single && buckets.every((b) => b === 0n)) continue;
    const h: NonNullable<Aggregate["histograms"]>[number] = { buckets };
    if (!single) h.key = e.formatted?.key ?? hexKey(e.key);
    if (shape.kind === "linear") {
      const v0 = vals[0] as Record<string, BtfValue>;
      h.start = BigInt(v0[shape.start] as number | bigint);
      h.step = BigInt(v0[shape.step] as number | bigint);
    }
    histograms.push(h);
  }
  // one histogram per key, in key order (a hash map's own order is its seeded hash)
  const text = (k: BtfValue | undefined) =>
    k === undefined ? "" : typeof k === "string" ? k : btfValueText(k);
  histograms.sort((a, b) => text(a.key).localeCompare(text(b.key), "en", { numeric: true }));
  return { map: name, id: m.info.id, kind: shape.kind, histograms };
}

const hexKey = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

/** The aggregate drawn for a terminal, with `label` naming the histogram unit. */
export function renderAggregate(
  a: Aggregate,
  opts: { top?: number; label?: string } = {},
): string[] {
  if (a.kind === "counter")
    return renderCounters(
      (a.counters ?? []).map((c) => ({
        key: typeof c.key === "string" ? c.key : btfValueText(c.key),
        count: c.count,
      })),
      opts.top ?? 0,
    );
  const hs = a.histograms ?? [];
  if (hs.length === 0) return ["(empty)"];
  const out: string[] = [];
  for (const h of hs) {
    if (h.key !== undefined)
      out.push(
        `${out.length ? "\n" : ""}key = ${typeof h.key === "string" ? h.key : btfValueText(h.key)}`,
      );
    out.push(
      ...(a.kind === "linear"
        ? renderLinearHist(
            h.buckets,
            h.start ?? 0n,
            h.step && h.step > 0n ? h.step : 1n,
            opts.label,
          )
        : renderLog2Hist(h.buckets, opts.label)),
    );
  }
  return out;
}
