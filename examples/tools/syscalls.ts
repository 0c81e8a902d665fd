// The records of the `syscalls/sys_enter_*` and `sys_exit_*` tracepoints after their 8-byte
// common header, as tracefs describes them (every argument is 8 bytes, at 16 + 8 * i) — the
// C tools' `struct syscall_trace_enter` / `syscall_trace_exit`. The kernel's BTF has no
// per-syscall record types, so these are the one place the tools write a layout by hand.
import { struct, array, i32, i64, u32, u64 } from "tsbpf/types";

/** `sys_enter_*`: the syscall number and its arguments (`args[i]`, constant `i`). */
export const SysEnter = struct("SysEnter", { nr: i32, pad: u32, args: array(u64, 6) });
/** `sys_exit_*`: the syscall number and its return value. */
export const SysExit = struct("SysExit", { nr: i32, pad: u32, ret: i64 });
