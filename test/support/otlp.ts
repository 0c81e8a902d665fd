// Decoding OTLP/HTTP protobuf metric exports in tests: the subset of the OpenTelemetry
// protocol's metrics messages (field numbers as in opentelemetry-proto's metrics.proto,
// common.proto, resource.proto, metrics_service.proto), parsed by protobufjs.
import protobuf from "protobufjs";

const PROTO = `
syntax = "proto3";
package otlp;
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message Metric {
  string name = 1; string description = 2; string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message NumberDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; optional double sum = 5; repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7; uint32 flags = 10; optional double min = 11; optional double max = 12;
}
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; bytes bytes_value = 7; } }
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const Request = root.lookupType("otlp.ExportMetricsServiceRequest");

export const CUMULATIVE = 2;

export interface OtlpPoint {
  attributes: Record<string, string>;
  value?: number;
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  bounds?: number[];
  startNs: bigint;
  timeNs: bigint;
}
export interface OtlpMetric {
  name: string;
  description: string;
  unit: string;
  kind: "gauge" | "sum" | "histogram";
  monotonic?: boolean;
  temporality?: number;
  points: OtlpPoint[];
}
export interface OtlpExport {
  resource: Record<string, string>;
  metrics: OtlpMetric[];
}

type Long = { toString(): string } | number | string;
const big = (v: Long | undefined): bigint => (v === undefined ? 0n : BigInt(v.toString()));
const num = (v: Long | undefined): number => Number(big(v));

interface RawKv {
  key: string;
  value?: { string_value?: string; int_value?: Long; double_value?: number; bool_value?: boolean };
}
function attrs(list: RawKv[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key] =
      v.string_value ??
      (v.int_value !== undefined
        ? String(v.int_value)
        : String(v.double_value ?? v.bool_value ?? ""));
  }
  return out;
}

/** Decodes one ExportMetricsServiceRequest (the body of POST /v1/metrics). */
export function decodeExport(body: Uint8Array): OtlpExport[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const msg = Request.toObject(Request.decode(body), { longs: String, defaults: false }) as any;
  const out: OtlpExport[] = [];
  for (const rm of msg.resource_metrics ?? []) {
    const metrics: OtlpMetric[] = [];
    for (const sm of rm.scope_metrics ?? [])
      for (const m of sm.metrics ?? []) {
        const base = { name: m.name, description: m.description ?? "", unit: m.unit ?? "" };
        if (m.histogram)
          metrics.push({
            ...base,
            kind: "histogram",
            temporality: m.histogram.aggregation_temporality,
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            points: (m.histogram.data_points ?? []).map((p: any) => ({
              attributes: attrs(p.attributes),
              count: num(p.count),
              ...(p.sum !== undefined && { sum: p.sum }),
              bucketCounts: (p.bucket_counts ?? []).map(num),
              bounds: p.explicit_bounds ?? [],
              startNs: big(p.start_time_unix_nano),
              timeNs: big(p.time_unix_nano),
            })),
          });
        else {
          const data = m.sum ?? m.gauge;
          metrics.push({
            ...base,
            kind: m.sum ? "sum" : "gauge",
            ...(m.sum && {
              monotonic: m.sum.is_monotonic === true,
              temporality: m.sum.aggregation_temporality,
            }),
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            points: (data?.data_points ?? []).map((p: any) => ({
              attributes: attrs(p.attributes),
              value: p.as_double ?? num(p.as_int),
              startNs: big(p.start_time_unix_nano),
              timeNs: big(p.time_unix_nano),
            })),
          });
        }
      }
    out.push({ resource: attrs(rm.resource?.attributes), metrics });
  }
  return out;
}
