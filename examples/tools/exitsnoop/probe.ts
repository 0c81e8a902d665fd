// exitsnoop (bcc libbpf-tools) in TypeScript: every process (or thread) exit, with its age,
// its parent and how it ended, from the sched_process_exit tracepoint.
import {
  program,
  map,
  config,
  tracepoint,
  RingBuf,
  currentTask,
  pidTgid,
  ktimeGetNs,
  toNumber,
  comm,
  type TracepointContext,
} from "tsbpf/probe";
import { u32, u8 } from "tsbpf/types";
import type { task_struct, trace_event_raw_sched_process_template } from "../vmlinux.js";
import { Exit } from "./shared.js";

program({ license: "Dual BSD/GPL" });

/** Only this process (0: all). */
const targetPid = config("target_pid", u32, 0);
/** Only exits with a non-zero code or a signal. */
const failedOnly = config("trace_failed_only", u8, 0);
/** One line per process (its last thread) rather than per thread. */
const byProcess = config("trace_by_process", u8, 1);

const events = map("events", new RingBuf(Exit, { maxEntries: 256 * 1024 }));

export const sched_process_exit = tracepoint(
  "sched",
  "sched_process_exit",
  (_ctx: TracepointContext<trace_event_raw_sched_process_template>) => {
    const id = pidTgid();
    const pid = toNumber(id >> 32n);
    const tid = toNumber(id & 0xffffffffn);
    if (targetPid.value !== 0 && targetPid.value !== pid) return 0;
    if (byProcess.value !== 0 && pid !== tid) return 0;
    const task = currentTask<task_struct>();
    const code = task.exit_code;
    if (failedOnly.value !== 0 && code === 0) return 0;
    const e = events.reserve();
    if (!e) return 0;
    e.start_time = task.start_time;
    e.exit_time = ktimeGetNs();
    e.pid = pid;
    e.tid = tid;
    e.ppid = task.real_parent.tgid;
    e.sig = code & 0xff;
    e.exit_code = code >> 8;
    comm(e.comm);
    events.submit(e);
    return 0;
  },
);
