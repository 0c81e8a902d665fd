// runqslower's event, shared by the probe and the tool.
import { struct, array, i32, u64, u8, type Infer } from "tsbpf/types";

export const RunqEvent = struct("RunqEvent", {
  task: array(u8, 16),
  prev_task: array(u8, 16),
  delta_us: u64,
  pid: i32,
  prev_pid: i32,
});
export type RunqEvent = Infer<typeof RunqEvent>;
