// The exporter under benchmark (bench/export.ts starts one per series count): serves the pinned
// hash map given by --pin as one counter with two decoded labels (source address, protocol), on
// 127.0.0.1, through the same MapCollector + Exposition + MetricsServer as `tsbpf agent`.
// Prints {"port":N} when listening; on SIGTERM prints {"collect_ms":[…]} (map read + decode per
// scrape, without formatting or HTTP) and exits.
import { parseArgs } from "node:util";
import { BpfMap } from "../src/map/map.js";
import { MapCollector } from "../src/export/collector.js";
import { Exposition, MetricsServer } from "../src/export/prometheus.js";
import { counter, defineExporter } from "../src/export/spec.js";
import { FlowKey, Traffic } from "./export-layout.js";

const { values } = parseArgs({ options: { pin: { type: "string" } } });
if (!values.pin) throw new Error("usage: export-serve --pin PATH");
const map = BpfMap.fromPin(values.pin);
const collector = MapCollector.bind(
  defineExporter({
    metrics: [
      counter({
        name: "bench_packets",
        help: "packets by source and protocol",
        map: "flows",
        key: FlowKey,
        value: Traffic,
        field: "packets",
        labels: {
          source: { field: "saddr", decode: "ipv4" },
          proto: { field: "proto", decode: { enum: { 6: "tcp", 17: "udp" } } },
        },
      }),
    ],
  }),
  { maps: new Map([["flows", map]]) },
);
const collectMs: number[] = [];
const exposition = await Exposition.create(collector.specs, () => {
  const c = collector.collect();
  collectMs.push(collector.stats.lastSeconds * 1e3);
  return c;
});
const server = await MetricsServer.start(
  { host: "127.0.0.1", port: 0 },
  { exposition: () => exposition },
);
process.stdout.write(JSON.stringify({ port: Number(server.address.split(":").pop()) }) + "\n");
process.once("SIGTERM", () => {
  void server.close().then(() => {
    process.stdout.write(JSON.stringify({ collect_ms: collectMs }) + "\n");
    map.close();
    process.exit(0);
  });
});
