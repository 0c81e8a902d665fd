// The flow map of the exporter benchmark (bench/export.ts, export-serve.ts; C: export_read.c).
import { struct, be32, u8, u64, array } from "../src/types/index.js";

export const FlowKey = struct("FlowKey", { saddr: be32, proto: u8, pad: array(u8, 3) });
export const Traffic = struct("Traffic", { packets: u64, bytes: u64 });
