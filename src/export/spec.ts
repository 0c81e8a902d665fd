// What the exporter exports: which maps become which metrics. Two ways to say it:
// - a config file (JSON or YAML, `tsbpf export --config`): fields named as strings and
//   resolved against the object's BTF when it is loaded;
// - TypeScript (`defineExporter`, `counter`, `gauge`, `histogram`): the key and value layouts
//   are the probe's own tsbpf/types structs, so label fields are checked by the compiler.
// Both end up as the same MetricSpec list.
import type { StructType, Fields } from "../types/struct.js";
import type { Type } from "../types/type.js";
import type { DecoderSpec } from "./decode.js";

export type { DecoderSpec };

export interface LabelSpec {
  /** Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*) */
  readonly name: string;
  /** the key field it comes from (dotted for nested structs); omit for a scalar key */
  readonly field?: string;
  /** how its bytes become the value; default: enum name for C enums, else the number (hex for byte arrays) */
  readonly decode?: DecoderSpec;
}

/**
 * Histogram buckets. The probe stores a count per bucket index `i` in a map whose key has a
 * bucket field (and any label fields):
 * - `log2`: bucket i holds values in [2^i, 2^(i+1)) (0 and 1 in bucket 0) — libbpf-tools'
 *   `log2l()`; exported with `le` = (2^(i+1) − 1) × multiplier
 * - `linear`: bucket i holds values in [i·width, (i+1)·width); `le` = ((i+1)·width − 1) × multiplier
 * Indexes min…max are exported; a larger index counts only in `+Inf` (and `_count`).
 */
export interface BucketSpec {
  readonly type: "log2" | "linear";
  /** highest bucket index (inclusive) */
  readonly max: number;
  /** lowest bucket index exported as its own `le` (default 0) */
  readonly min?: number;
  /** linear buckets: width of one bucket in the probe's unit */
  readonly width?: number;
  /** scale from the probe's unit to the metric's (1e-9 for ns → seconds); default 1 */
  readonly multiplier?: number;
}

interface MetricBase {
  /** metric name; counters without `_total` (it is added), with `_<unit>` when unit is set */
  readonly name: string;
  readonly help: string;
  /** base unit (`bytes`, `seconds`…): the name must end with `_<unit>` */
  readonly unit?: string;
  /** the map's name in the object */
  readonly map: string;
  readonly labels?: readonly LabelSpec[];
  /** the value field to read (dotted), for struct values; omit for an integer value */
  readonly value?: string;
}

export interface CounterSpec extends MetricBase {
  readonly type: "counter";
}
export interface GaugeSpec extends MetricBase {
  readonly type: "gauge";
}
export interface HistogramSpec extends MetricBase {
  readonly type: "histogram";
  /** the key field holding the bucket index */
  readonly bucket: string;
  readonly buckets: BucketSpec;
  /**
   * `"bucket"`: the probe adds each value to bucket index max + 1, which becomes `_sum`
   * (ebpf_exporter's convention). `"none"`: no `_sum` is exported (quantiles still work).
   */
  readonly sum?: "bucket" | "none";
}

export type MetricSpec = CounterSpec | GaugeSpec | HistogramSpec;

/** A metric with the layouts of its map's key and value (from TypeScript types). */
export interface TypedMetric {
  readonly spec: MetricSpec;
  readonly key: Type;
  readonly value: Type;
}

/** What an exporter exports: metric specs, each with layouts when written in TypeScript. */
export interface ExporterDefinition {
  readonly metrics: readonly (MetricSpec | TypedMetric)[];
}

/** The config file's shape (JSON or YAML). */
export interface ExporterConfig {
  readonly metrics: readonly MetricSpec[];
}

// ---- The typed TypeScript API ----

/** Top-level field names of a struct type (a scalar key has none: use `{}` labels). */
export type FieldOf<T> = T extends StructType<infer F extends Fields> ? keyof F & string : never;

/** A label: the field's name (default decoding) or `{ field, decode }`. */
export type TypedLabel<K> =
  FieldOf<K> | { readonly field: FieldOf<K>; readonly decode: DecoderSpec };

interface TypedBase<K extends Type, V extends Type> {
  readonly name: string;
  readonly help: string;
  readonly unit?: string;
  readonly map: string;
  /** the map's key type, as the probe declares it */
  readonly key: K;
  /** the map's value type, as the probe declares it */
  readonly value: V;
  /** for struct values: which field to export */
  readonly field?: FieldOf<V>;
  /** label name → key field */
  readonly labels?: { readonly [label: string]: TypedLabel<K> };
}

function labelsOf<K extends Type>(
  labels: { readonly [label: string]: TypedLabel<K> } | undefined,
): LabelSpec[] {
  return Object.entries(labels ?? {}).map(([name, l]) =>
    typeof l === "string" ? { name, field: l } : { name, field: l.field, decode: l.decode },
  );
}

function base<K extends Type, V extends Type>(m: TypedBase<K, V>) {
  return {
    name: m.name,
    help: m.help,
    map: m.map,
    labels: labelsOf(m.labels),
    ...(m.unit !== undefined && { unit: m.unit }),
    ...(m.field !== undefined && { value: m.field }),
  };
}

/** A counter: the (per-CPU summed) value of each key, one series per label set. */
export function counter<K extends Type, V extends Type>(m: TypedBase<K, V>): TypedMetric {
  return { spec: { type: "counter", ...base(m) }, key: m.key, value: m.value };
}

/** A gauge: like a counter, but the value may go down. */
export function gauge<K extends Type, V extends Type>(m: TypedBase<K, V>): TypedMetric {
  return { spec: { type: "gauge", ...base(m) }, key: m.key, value: m.value };
}

/** A histogram from a bucket-count map (see BucketSpec). */
export function histogram<K extends Type, V extends Type>(
  m: TypedBase<K, V> & {
    readonly bucket: FieldOf<K>;
    readonly buckets: BucketSpec;
    readonly sum?: "bucket" | "none";
  },
): TypedMetric {
  return {
    spec: {
      type: "histogram",
      ...base(m),
      bucket: m.bucket,
      buckets: m.buckets,
      ...(m.sum !== undefined && { sum: m.sum }),
    },
    key: m.key,
    value: m.value,
  };
}

export function defineExporter(def: ExporterDefinition): ExporterDefinition {
  return def;
}

export function isTyped(m: MetricSpec | TypedMetric): m is TypedMetric {
  return "spec" in m;
}
