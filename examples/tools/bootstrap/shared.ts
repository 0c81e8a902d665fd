// bootstrap's event, shared by the probe and the tool.
import { struct, array, i32, u32, u64, u8, type Infer } from "tsbpf/types";

export const Event = struct("Event", {
  pid: i32,
  ppid: i32,
  exit_code: u32,
  duration_ns: u64,
  comm: array(u8, 16),
  filename: array(u8, 127),
  /** 1 for an exit, 0 for an exec */
  exit_event: u8,
});
export type Event = Infer<typeof Event>;
