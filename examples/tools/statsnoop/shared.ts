// statsnoop's records, shared by the probe and the tool.
import { struct, array, i32, u32, u64, u8, type Infer } from "tsbpf/types";

/** The syscall, as the C tool numbers them (0 is "N/A"). */
export const SYS_NAMES = [
  "N/A",
  "statfs",
  "newstat",
  "statx",
  "newfstat",
  "newfstatat",
  "newlstat",
];
export const NAME_MAX = 255;

export const StatArgs = struct("StatArgs", { fd: i32, dirfd: i32, pathname: u64, type: u32 });
export const Stat = struct("Stat", {
  ts_ns: u64,
  pid: u32,
  type: u32,
  ret: i32,
  comm: array(u8, 16),
  /** the file descriptor of fstat, -1 otherwise */
  fd: i32,
  /** the directory descriptor of statx and fstatat, -1 otherwise */
  dirfd: i32,
  pathname: array(u8, NAME_MAX),
});
export type Stat = Infer<typeof Stat>;
