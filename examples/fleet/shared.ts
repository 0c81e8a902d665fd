// The fleet example's map layouts, shared by the probe (layout, BTF) and the exporter
// definition (exporter.ts: labels are checked against these fields by the compiler).
import { struct, be32, u8, u32, u64, array } from "tsbpf/types";

/** Traffic by source address and IP protocol (1 icmp, 6 tcp, 17 udp). */
export const FlowKey = struct("FlowKey", { saddr: be32, proto: u8, pad: array(u8, 3) });
export const Traffic = struct("Traffic", { packets: u64, bytes: u64 });

/** Frame sizes: a count per log2 bucket and protocol; bucket SIZE_SUM holds the sum of sizes. */
/** A bucket's count (a struct so the probe can add to it atomically). */
export const Count = struct("Count", { n: u64 });
export const SizeKey = struct("SizeKey", { proto: u8, pad: array(u8, 3), bucket: u32 });
export const SIZE_MAX_BUCKET = 15;
export const SIZE_SUM = SIZE_MAX_BUCKET + 1;

/** One event per UDP datagram (the agent counts them: tsbpf_agent_events_total). */
export const Seen = struct("Seen", { saddr: be32, len: u32 });
