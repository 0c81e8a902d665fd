// Binds metric specs to a loaded object's maps and reads them: one pass over each map per
// collection (BPF_MAP_LOOKUP_BATCH where the kernel has it), per-CPU values summed, labels
// decoded, keys that decode to the same label set added together. Histograms are assembled
// from bucket-count maps. The result is plain data; prometheus.ts and otlp.ts format it.
import type { BpfMap } from "../map/map.js";
import type { BpfObject } from "../obj/object.js";
import { MapType, nameOf } from "../obj/consts.js";
import { readChunks, type Chunk } from "./batch.js";
import { intReader, makeDecoder, type Decoder } from "./decode.js";
import { ExportError } from "./errors.js";
import { findField, layoutOfBtf, layoutOfSize, layoutOfType, type Layout } from "./layout.js";
import { LABEL_NAME, METRIC_NAME } from "./config.js";
import { isTyped, type ExporterDefinition, type HistogramSpec, type MetricSpec } from "./spec.js";

export interface Series {
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface HistogramSeries {
  readonly labels: Record<string, string>;
  /** finite upper bounds (`le`), ascending */
  readonly bounds: readonly number[];
  /** observations per bound (not cumulative); one more entry: above the last bound */
  readonly counts: readonly number[];
  readonly count: number;
  /** absent when the spec says sum: "none" */
  readonly sum?: number;
}

export type Collected =
  | { readonly spec: MetricSpec & { type: "counter" | "gauge" }; readonly series: Series[] }
  | { readonly spec: HistogramSpec; readonly series: HistogramSeries[] };

const READABLE: ReadonlySet<number> = new Set([
  MapType.HASH,
  MapType.ARRAY,
  MapType.PERCPU_HASH,
  MapType.PERCPU_ARRAY,
  MapType.LRU_HASH,
  MapType.LRU_PERCPU_HASH,
]);

interface Plan {
  readonly spec: MetricSpec;
  readonly map: BpfMap;
  readonly perCpu: boolean;
  readonly labelNames: readonly string[];
  readonly decoders: readonly Decoder[];
  readonly value: (view: DataView, base: number) => bigint;
  readonly bucket?: {
    readonly read: (view: DataView, base: number) => bigint;
    readonly min: number;
    readonly max: number;
    readonly bounds: readonly number[];
    readonly sumIndex: number | undefined;
    readonly multiplier: number;
  };
}

/** The `le` of each bucket index min…max. */
export function bucketBounds(spec: HistogramSpec, where: string): number[] {
  const b = spec.buckets;
  const min = b.min ?? 0;
  const mult = b.multiplier ?? 1;
  if (b.max < min)
    throw new ExportError(`${where}: buckets.max (${b.max}) is below buckets.min (${min})`);
  if (!(mult > 0)) throw new ExportError(`${where}: buckets.multiplier must be positive`);
  const out: number[] = [];
  if (b.type === "log2") {
    if (b.max > 62)
      throw new ExportError(`${where}: log2 buckets.max is at most 62 (2^63 overflows a u64)`);
    for (let i = min; i <= b.max; i++) out.push((2 ** (i + 1) - 1) * mult);
  } else {
    const w = b.width;
    if (w === undefined || !(w > 0) || !Number.isInteger(w))
      throw new ExportError(`${where}: linear buckets need a positive integer width`);
    for (let i = min; i <= b.max; i++) out.push(((i + 1) * w - 1) * mult);
  }
  return out;
}

function checkNames(spec: MetricSpec, where: string): void {
  if (!METRIC_NAME.test(spec.name))
    throw new ExportError(
      `${where}: "${spec.name}" is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`,
    );
  if (spec.type === "counter" && spec.name.endsWith("_total"))
    throw new ExportError(
      `${where}: leave "_total" out of a counter's name (${spec.name.slice(0, -6)}): it is added on export`,
    );
  if (spec.type === "histogram" && /_(bucket|sum|count)$/.test(spec.name))
    throw new ExportError(`${where}: a histogram's name must not end in _bucket, _sum or _count`);
  if (spec.unit !== undefined) {
    if (!/^[a-z][a-z0-9_]*$/.test(spec.unit))
      throw new ExportError(
        `${where}: unit "${spec.unit}" should be a base unit in lower case (bytes, seconds)`,
      );
    if (!spec.name.endsWith(`_${spec.unit}`))
      throw new ExportError(
        `${where}: a metric in ${spec.unit} is named ${spec.name}_${spec.unit}: the name must end with the unit`,
      );
  }
  const seen = new Set<string>();
  for (const l of spec.labels ?? []) {
    if (!LABEL_NAME.test(l.name) || l.name.startsWith("__"))
      throw new ExportError(
        `${where}: "${l.name}" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`,
      );
    if (spec.type === "histogram" && l.name === "le")
      throw new ExportError(
        `${where}: "le" is the histogram's own label: name this one differently`,
      );
    if (seen.has(l.name)) throw new ExportError(`${where}: label "${l.name}" appears twice`);
    seen.add(l.name);
  }
}

export interface ExportSource {
  readonly maps: ReadonlyMap<string, BpfMap>;
  /** the parsed object, for the BTF of map keys and values (config-file metrics) */
  readonly object?: BpfObject;
}

function btfLayout(
  source: ExportSource,
  mapName: string,
  which: "key" | "value",
  size: number,
): Layout {
  const spec = source.object?.maps.find((m) => m.name === mapName);
  const id = which === "key" ? spec?.btfKeyTypeId : spec?.btfValueTypeId;
  const btf = source.object?.btf;
  if (btf && id) return layoutOfBtf(btf, id);
  return layoutOfSize(size);
}

function plan(m: ExporterDefinition["metrics"][number], source: ExportSource): Plan {
  const spec = isTyped(m) ? m.spec : m;
  const where = `metric ${spec.name}`;
  checkNames(spec, where);
  const map = source.maps.get(spec.map);
  if (!map)
    throw new ExportError(
      `${where}: the object has no map "${spec.map}" (its maps: ${[...source.maps.keys()].join(", ") || "none"})`,
    );
  if (!READABLE.has(map.type))
    throw new ExportError(
      `${where}: map "${spec.map}" is a ${nameOf(MapType, map.type)}; metrics come from hash and array maps (plain, LRU or per-CPU)`,
    );
  let key: Layout;
  let value: Layout;
  if (isTyped(m)) {
    key = layoutOfType(m.key);
    value = layoutOfType(m.value);
    if (key.size !== map.keySize)
      throw new ExportError(
        `${where}: key type ${key.label} is ${key.size} bytes but map "${spec.map}" has ${map.keySize}-byte keys`,
      );
    if (value.size !== map.valueSize)
      throw new ExportError(
        `${where}: value type ${value.label} is ${value.size} bytes but map "${spec.map}" has ${map.valueSize}-byte values`,
      );
  } else {
    key = btfLayout(source, spec.map, "key", map.keySize);
    value = btfLayout(source, spec.map, "value", map.valueSize);
  }
  const labels = spec.labels ?? [];
  const decoders = labels.map((l) =>
    makeDecoder(
      findField(key, l.field, `${where}: label ${l.name}`),
      l.decode,
      `${where}: label ${l.name}`,
    ),
  );
  const valueField = findField(value, spec.value, `${where}: value`);
  if (!valueField.int)
    throw new ExportError(`${where}: value field "${valueField.name}" is not an integer`);
  const read = intReader(valueField, `${where}: value`);
  let bucket: Plan["bucket"];
  if (spec.type === "histogram") {
    const f = findField(key, spec.bucket, `${where}: bucket`);
    if (!f.int) throw new ExportError(`${where}: bucket field "${f.name}" is not an integer`);
    if (labels.some((l) => (l.field ?? "") === f.name))
      throw new ExportError(`${where}: the bucket field "${f.name}" cannot also be a label`);
    const bounds = bucketBounds(spec, where);
    bucket = {
      read: intReader(f, `${where}: bucket`),
      min: spec.buckets.min ?? 0,
      max: spec.buckets.max,
      bounds,
      sumIndex: spec.sum === "none" ? undefined : spec.buckets.max + 1,
      multiplier: spec.buckets.multiplier ?? 1,
    };
  }
  return {
    spec,
    map,
    perCpu: map.isPerCpu,
    labelNames: labels.map((l) => l.name),
    decoders,
    value: read,
    ...(bucket && { bucket }),
  };
}

export interface CollectorStats {
  /** collections done */
  collections: number;
  /** map reads that failed */
  errors: number;
  /** seconds the last collection took */
  lastSeconds: number;
  /** series in the last collection (histograms count one per label set) */
  lastSeries: number;
}

export class MapCollector {
  readonly plans: readonly Plan[];
  readonly stats: CollectorStats = { collections: 0, errors: 0, lastSeconds: 0, lastSeries: 0 };
  private readonly noBatch = new Set<BpfMap>();

  private constructor(plans: Plan[]) {
    this.plans = plans;
  }

  /** Checks every metric against the maps (ExportError naming the first problem). */
  static bind(def: ExporterDefinition, source: ExportSource): MapCollector {
    const names = new Set<string>();
    const plans = def.metrics.map((m) => {
      const p = plan(m, source);
      if (names.has(p.spec.name)) throw new ExportError(`metric ${p.spec.name} is defined twice`);
      names.add(p.spec.name);
      return p;
    });
    return new MapCollector(plans);
  }

  get specs(): MetricSpec[] {
    return this.plans.map((p) => p.spec);
  }

  /** Reads every map once and returns each metric's series. */
  collect(): Collected[] {
    const start = process.hrtime.bigint();
    const cache = new Map<BpfMap, Chunk[]>();
    const out: Collected[] = [];
    let series = 0;
    for (const p of this.plans) {
      let entries = cache.get(p.map);
      if (!entries) {
        try {
          entries = readChunks(p.map, this.noBatch);
        } catch (e) {
          this.stats.errors++;
          throw e;
        }
        cache.set(p.map, entries);
      }
      const c = p.bucket ? collectHistogram(p, entries) : collectValues(p, entries);
      series += c.series.length;
      out.push(c);
    }
    this.stats.collections++;
    this.stats.lastSeries = series;
    this.stats.lastSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    return out;
  }
}

function labelsOf(
  p: Plan,
  kv: DataView,
  base: number,
): { id: string; labels: Record<string, string> } {
  const labels: Record<string, string> = {};
  const parts: string[] = [];
  for (let i = 0; i < p.decoders.length; i++) {
    const v = p.decoders[i]!(kv, base);
    labels[p.labelNames[i]!] = v;
    parts.push(v);
  }
  return { id: parts.join("\0"), labels };
}

function valueOf(p: Plan, c: Chunk, i: number): bigint {
  const base = i * c.valueStride;
  if (c.cpus === 1) return p.value(c.values, base);
  let total = 0n;
  for (let cpu = 0; cpu < c.cpus; cpu++) total += p.value(c.values, base + cpu * c.slot);
  return total;
}

function collectValues(p: Plan, chunks: Chunk[]): Collected {
  const acc = new Map<string, { labels: Record<string, string>; value: bigint }>();
  for (const c of chunks)
    for (let i = 0; i < c.count; i++) {
      const { id, labels } = labelsOf(p, c.keys, i * c.keySize);
      const v = valueOf(p, c, i);
      const prev = acc.get(id);
      if (prev) prev.value += v;
      else acc.set(id, { labels, value: v });
    }
  return {
    spec: p.spec as MetricSpec & { type: "counter" | "gauge" },
    series: [...acc.values()].map((s) => ({ labels: s.labels, value: Number(s.value) })),
  };
}

function collectHistogram(p: Plan, chunks: Chunk[]): Collected {
  const b = p.bucket!;
  const n = b.bounds.length;
  const acc = new Map<string, { labels: Record<string, string>; counts: bigint[]; sum: bigint }>();
  for (const c of chunks)
    for (let i = 0; i < c.count; i++) {
      const base = i * c.keySize;
      const { id, labels } = labelsOf(p, c.keys, base);
      let h = acc.get(id);
      if (!h) {
        h = { labels, counts: new Array<bigint>(n + 1).fill(0n), sum: 0n };
        acc.set(id, h);
      }
      const idx = b.read(c.keys, base);
      const v = valueOf(p, c, i);
      if (b.sumIndex !== undefined && idx === BigInt(b.sumIndex)) h.sum += v;
      else if (idx > BigInt(b.max)) h.counts[n]! += v;
      else if (idx <= BigInt(b.min)) h.counts[0]! += v;
      else h.counts[Number(idx) - b.min]! += v;
    }
  const series: HistogramSeries[] = [];
  for (const h of acc.values()) {
    const counts = h.counts.map(Number);
    const count = counts.reduce((a, c) => a + c, 0);
    series.push({
      labels: h.labels,
      bounds: b.bounds,
      counts,
      count,
      ...(b.sumIndex !== undefined && { sum: Number(h.sum) * b.multiplier }),
    });
  }
  return { spec: p.spec as HistogramSpec, series };
}
