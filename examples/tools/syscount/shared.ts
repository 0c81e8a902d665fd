// syscount's per-key counters, shared by the probe and the tool.
import { struct, array, u64, u8, type Infer } from "tsbpf/types";

export const Data = struct("Data", { count: u64, total_ns: u64, comm: array(u8, 16) });
export type Data = Infer<typeof Data>;
