// opensnoop's records, shared by the probe and the tool.
import { struct, array, i32, u32, u64, u8, type Infer } from "tsbpf/types";

/** Longest path kept (Linux's PATH_MAX: no path a syscall accepts is longer). */
export const PATH_MAX = 4096;

/** What the entry of an open saw, until its exit. */
export const OpenArgs = struct("OpenArgs", { fname: u64, flags: i32, mode: u32 });
export const Open = struct("Open", {
  ts: u64,
  pid: i32,
  uid: u32,
  ret: i32,
  flags: i32,
  mode: u32,
  pad: u32,
  comm: array(u8, 16),
  fname: array(u8, PATH_MAX),
});
export type Open = Infer<typeof Open>;
/** `struct open_how` (openat2's second argument) */
export const OpenHow = struct("OpenHow", { flags: u64, mode: u64, resolve: u64 });
export type OpenHow = Infer<typeof OpenHow>;
