// syncsnoop's event, shared by the probe and the tool.
import { struct, array, i32, u32, u64, u8, type Infer } from "tsbpf/types";

/** The call, as the C tool numbers them. */
export const SYS_NAMES = [
  "N/A",
  "sync",
  "fsync",
  "fdatasync",
  "msync",
  "sync_file_range",
  "sync_file_range2",
  "arm_sync_file_range",
  "syncfs",
  "N/A",
];

export const Sync = struct("Sync", { comm: array(u8, 16), ts_us: u64, sys: i32, pad: u32 });
export type Sync = Infer<typeof Sync>;
