// The same metrics as exporter.yaml, in TypeScript: labels and fields are checked against the
// probe's structs by the compiler (a typo in "saddr" does not compile).
import { counter, defineExporter, histogram } from "tsbpf/export";
import { FlowKey, Traffic, SizeKey, Count, SIZE_MAX_BUCKET } from "./shared.js";

const proto = { field: "proto", decode: { enum: { 1: "icmp", 6: "tcp", 17: "udp" } } } as const;

export default defineExporter({
  metrics: [
    counter({
      name: "fleet_packets",
      help: "IPv4 packets seen by the node's XDP probe, by source address and protocol",
      map: "traffic",
      key: FlowKey,
      value: Traffic,
      field: "packets",
      labels: { source: { field: "saddr", decode: "ipv4" }, proto },
    }),
    counter({
      name: "fleet_received_bytes",
      unit: "bytes",
      help: "bytes of those packets (Ethernet frames)",
      map: "traffic",
      key: FlowKey,
      value: Traffic,
      field: "bytes",
      labels: { source: { field: "saddr", decode: "ipv4" }, proto },
    }),
    histogram({
      name: "fleet_frame_size_bytes",
      unit: "bytes",
      help: "sizes of the IPv4 frames seen, log2 buckets",
      map: "sizes",
      key: SizeKey,
      value: Count,
      field: "n",
      bucket: "bucket",
      buckets: { type: "log2", max: SIZE_MAX_BUCKET },
      sum: "bucket",
      labels: { proto },
    }),
  ],
});
