// libbpf-bootstrap's "minimal" example in TypeScript: when the process whose pid user space
// wrote into `my_pid` calls write(2), say so in the kernel's trace buffer.
import {
  program,
  global,
  tracepoint,
  pidTgid,
  toNumber,
  tracePrintk,
  type TracepointContext,
} from "tsbpf/probe";
import { i32 } from "tsbpf/types";
import type { trace_event_raw_sys_enter } from "../vmlinux.js";

program({ license: "Dual BSD/GPL" });

/** set by user space (a .bss variable, as in the C example) */
const myPid = global("my_pid", i32);

export const handle_tp = tracepoint(
  "syscalls",
  "sys_enter_write",
  (_ctx: TracepointContext<trace_event_raw_sys_enter>) => {
    const pid = toNumber(pidTgid() >> 32n);
    if (pid !== myPid.value) return 0;
    tracePrintk("BPF triggered from PID %d.\n", pid);
    return 0;
  },
);
