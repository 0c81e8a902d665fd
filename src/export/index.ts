// tsbpf/export — eBPF maps as Prometheus/OpenMetrics and OTLP metrics, and the agent that
// serves them. Its client libraries (prom-client, the OpenTelemetry SDK, yaml) are optional
// dependencies imported when first used, so `import "tsbpf"` never loads them.
export { ExportError } from "./errors.js";
export {
  counter,
  gauge,
  histogram,
  defineExporter,
  type BucketSpec,
  type CounterSpec,
  type DecoderSpec,
  type ExporterConfig,
  type ExporterDefinition,
  type FieldOf,
  type GaugeSpec,
  type HistogramSpec,
  type LabelSpec,
  type MetricSpec,
  type TypedLabel,
  type TypedMetric,
} from "./spec.js";
export { checkConfig, readConfig } from "./config.js";
export {
  MapCollector,
  bucketBounds,
  type Collected,
  type CollectorStats,
  type ExportSource,
  type HistogramSeries,
  type Series,
} from "./collector.js";
export { Exposition, MetricsServer, wantsOpenMetrics, type Listen } from "./prometheus.js";
export { startOtlpPush, type OtlpOptions, type OtlpPush } from "./otlp.js";
export { Agent, SELF_METRICS, type AgentOptions } from "./agent.js";
export { formatIpv4, formatIpv6 } from "./decode.js";
