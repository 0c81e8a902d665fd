// execsnoop's record layouts, shared by the probe (kernel layout) and the tool (decoding).
import { struct, array, i32, u32, u64, u8, type Infer } from "tsbpf/types";

/** Arguments kept per exec (the C tool's default --max-args is 20; it allows up to 60). */
export const MAX_ARGS = 20;
/** Bytes kept per argument, NUL included (the C tool's ARGSIZE). */
export const ARG_SIZE = 128;

const Arg = struct("Arg", { s: array(u8, ARG_SIZE) });
export const Exec = struct("Exec", {
  pid: i32,
  ppid: i32,
  uid: u32,
  retval: i32,
  /** arguments read; MAX_ARGS + 1 (or max_args + 1) when there were more */
  args_count: i32,
  pad: u32,
  comm: array(u8, 16),
  args: array(Arg, MAX_ARGS),
});
export type Exec = Infer<typeof Exec>;
export const Ptr = struct("Ptr", { p: array(u64, 1) });
export type Ptr = Infer<typeof Ptr>;
