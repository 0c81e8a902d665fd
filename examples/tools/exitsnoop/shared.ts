// exitsnoop's event, shared by the probe and the tool.
import { struct, array, i32, u32, u64, u8, type Infer } from "tsbpf/types";

export const Exit = struct("Exit", {
  start_time: u64,
  exit_time: u64,
  pid: u32,
  tid: u32,
  ppid: u32,
  /** the low byte of the task's exit code: signal number, 0x80 when it dumped core */
  sig: u32,
  /** exit status (exit code >> 8) */
  exit_code: i32,
  comm: array(u8, 16),
});
export type Exit = Infer<typeof Exit>;
