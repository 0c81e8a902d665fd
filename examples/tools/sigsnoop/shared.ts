// sigsnoop's event, shared by the probe and the tool.
import { struct, array, i32, u32, u8, type Infer } from "tsbpf/types";

export const Signal = struct("Signal", {
  pid: u32,
  tpid: u32,
  sig: i32,
  ret: i32,
  comm: array(u8, 16),
  /** the target's command name */
  tcomm: array(u8, 16),
});
export type Signal = Infer<typeof Signal>;
