// libbpf-bootstrap's "bootstrap" example in TypeScript: process execs (with the file name,
// from the sched_process_exec record's __data_loc string) and exits (with the exit code and
// how long the process lived since its exec), optionally only those that lived at least
// min_duration_ns.
import {
  program,
  map,
  config,
  tracepoint,
  HashMap,
  RingBuf,
  currentTask,
  pidTgid,
  ktimeGetNs,
  toNumber,
  comm,
  dataLoc,
  probeReadKernelStr,
  type TracepointContext,
} from "tsbpf/probe";
import { i32, u64 } from "tsbpf/types";
import type {
  task_struct,
  trace_event_raw_sched_process_exec,
  trace_event_raw_sched_process_template,
} from "../vmlinux.js";
import { Event } from "./shared.js";

program({ license: "Dual BSD/GPL" });

const minDurationNs = config("min_duration_ns", u64, 0n);

const execStart = map("exec_start", new HashMap(i32, u64, { maxEntries: 8192 }));
const rb = map("rb", new RingBuf(Event, { maxEntries: 256 * 1024 }));

export const handle_exec = tracepoint(
  "sched",
  "sched_process_exec",
  (ctx: TracepointContext<trace_event_raw_sched_process_exec>) => {
    const pid = toNumber(pidTgid() >> 32n);
    execStart.set(pid, ktimeGetNs());
    if (minDurationNs.value !== 0n) return 0;
    const e = rb.reserve();
    if (!e) return 0;
    e.exit_event = 0;
    e.pid = pid;
    e.ppid = currentTask<task_struct>().real_parent.tgid;
    comm(e.comm);
    probeReadKernelStr(e.filename, dataLoc(ctx.fields.__data_loc_filename));
    rb.submit(e);
    return 0;
  },
);

export const handle_exit = tracepoint(
  "sched",
  "sched_process_exit",
  (_ctx: TracepointContext<trace_event_raw_sched_process_template>) => {
    const id = pidTgid();
    const pid = toNumber(id >> 32n);
    if (pid !== toNumber(id & 0xffffffffn)) return 0; // a thread, not the process
    let duration = 0n;
    const t0 = execStart.get(pid);
    if (t0 !== null) duration = ktimeGetNs() - t0;
    else if (minDurationNs.value !== 0n) return 0;
    execStart.delete(pid);
    if (minDurationNs.value !== 0n && duration < minDurationNs.value) return 0;
    const e = rb.reserve();
    if (!e) return 0;
    const task = currentTask<task_struct>();
    e.exit_event = 1;
    e.duration_ns = duration;
    e.pid = pid;
    e.ppid = task.real_parent.tgid;
    e.exit_code = (task.exit_code >> 8) & 0xff;
    comm(e.comm);
    rb.submit(e);
    return 0;
  },
);
