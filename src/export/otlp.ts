// OTLP metrics push (http/protobuf) through the OpenTelemetry JS SDK (optional dependencies,
// imported only here). The maps are already aggregated in the kernel, so they enter the SDK as
// a MetricProducer that hands the reader finished data points (cumulative sums, gauges,
// explicit-bucket histograms), which the SDK's OTLP exporter encodes and sends.
import type { Collected, HistogramSeries, Series } from "./collector.js";
import { optionalImport } from "./config.js";

type Sdk = typeof import("@opentelemetry/sdk-metrics");
type Api = typeof import("@opentelemetry/api");
type Res = typeof import("@opentelemetry/resources");
type Proto = typeof import("@opentelemetry/exporter-metrics-otlp-proto");

export interface OtlpOptions {
  /** e.g. http://collector:4318/v1/metrics */
  url: string;
  /** export period (ms) */
  intervalMs: number;
  /** resource attributes (service.name, host.name, k8s.node.name…) */
  resource: Record<string, string>;
  headers?: Record<string, string>;
  /** export timeout (ms), default min(intervalMs, 10 s) */
  timeoutMs?: number;
}

export interface OtlpPush {
  /** export now */
  flush(): Promise<void>;
  /** last export, then stop */
  shutdown(): Promise<void>;
}

const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

export async function startOtlpPush(
  collect: () => Collected[],
  opts: OtlpOptions,
): Promise<OtlpPush> {
  const what = "OTLP export";
  const sdk = await optionalImport<Sdk>("@opentelemetry/sdk-metrics", what);
  const api = await optionalImport<Api>("@opentelemetry/api", what);
  const res = await optionalImport<Res>("@opentelemetry/resources", what);
  const proto = await optionalImport<Proto>("@opentelemetry/exporter-metrics-otlp-proto", what);
  const start = hr(Date.now());
  const resource = res.resourceFromAttributes(opts.resource);
  const producer = {
    async collect() {
      const end = hr(Date.now());
      const point = <T>(labels: Record<string, string>, value: T) => ({
        attributes: labels,
        startTime: start,
        endTime: end,
        value,
      });
      const metrics = collect().map((c) => {
        const descriptor = {
          name: c.spec.name,
          description: c.spec.help,
          unit: unitOf(c.spec.unit),
          valueType: api.ValueType.DOUBLE,
        };
        if (c.spec.type === "histogram")
          return {
            descriptor,
            aggregationTemporality: sdk.AggregationTemporality.CUMULATIVE,
            dataPointType: sdk.DataPointType.HISTOGRAM,
            dataPoints: (c.series as HistogramSeries[]).map((s) =>
              point(s.labels, {
                buckets: { boundaries: [...s.bounds], counts: [...s.counts] },
                count: s.count,
                ...(s.sum !== undefined && { sum: s.sum }),
              }),
            ),
          };
        if (c.spec.type === "counter")
          return {
            descriptor,
            aggregationTemporality: sdk.AggregationTemporality.CUMULATIVE,
            dataPointType: sdk.DataPointType.SUM,
            isMonotonic: true,
            dataPoints: (c.series as Series[]).map((s) => point(s.labels, s.value)),
          };
        return {
          descriptor,
          aggregationTemporality: sdk.AggregationTemporality.CUMULATIVE,
          dataPointType: sdk.DataPointType.GAUGE,
          dataPoints: (c.series as Series[]).map((s) => point(s.labels, s.value)),
        };
      });
      return {
        resourceMetrics: { resource, scopeMetrics: [{ scope: { name: "tsbpf" }, metrics }] },
        errors: [],
      };
    },
  };
  const exporter = new proto.OTLPMetricExporter({
    url: opts.url,
    ...(opts.headers && { headers: opts.headers }),
    timeoutMillis: opts.timeoutMs ?? Math.min(opts.intervalMs, 10_000),
  });
  const reader = new sdk.PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: opts.intervalMs,
    exportTimeoutMillis: opts.timeoutMs ?? Math.min(opts.intervalMs, 10_000),
    metricProducers: [producer as never],
  });
  const provider = new sdk.MeterProvider({ resource, readers: [reader] });
  return {
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** UCUM for the common base units (OTel's convention); others pass through. */
function unitOf(unit: string | undefined): string {
  switch (unit) {
    case undefined:
      return "";
    case "bytes":
      return "By";
    case "seconds":
      return "s";
    default:
      return unit;
  }
}
