// syscount (bcc libbpf-tools) in TypeScript: syscalls counted per syscall (or per process,
// -P), optionally with their total latency (-L), from the raw_syscalls tracepoints.
import {
  program,
  map,
  config,
  tracepoint,
  HashMap,
  ArrayMap,
  currentTask,
  addressOf,
  pidTgid,
  ktimeGetNs,
  toNumber,
  atomicAdd,
  probeReadKernelStr,
  type TracepointContext,
} from "tsbpf/probe";
import { i32, u32, u64, u8 } from "tsbpf/types";
import type {
  task_struct,
  trace_event_raw_sys_enter,
  trace_event_raw_sys_exit,
} from "../vmlinux.js";
import { Data } from "./shared.js";

program({ license: "GPL" });

const byProcess = config("count_by_process", u8, 0);
const measureLatency = config("measure_latency", u8, 0);
const filterFailed = config("filter_failed", u8, 0);
const filterErrno = config("filter_errno", i32, 0);
const filterPid = config("filter_pid", i32, 0);

const start = map("start", new HashMap(u32, u64, { maxEntries: 10240 }));
const data = map("data", new HashMap(u32, Data, { maxEntries: 10240 }));
const zero = map("zero", new ArrayMap(Data, { maxEntries: 1 }));

export const sys_enter = tracepoint(
  "raw_syscalls",
  "sys_enter",
  (_ctx: TracepointContext<trace_event_raw_sys_enter>) => {
    const id = pidTgid();
    if (filterPid.value !== 0 && toNumber(id >> 32n) !== filterPid.value) return 0;
    start.set(toNumber(id & 0xffffffffn), ktimeGetNs());
    return 0;
  },
);

export const sys_exit = tracepoint(
  "raw_syscalls",
  "sys_exit",
  (ctx: TracepointContext<trace_event_raw_sys_exit>) => {
    const id = pidTgid();
    const pid = toNumber(id >> 32n);
    const nr = ctx.fields.id;
    const ret = ctx.fields.ret;
    if (nr === -1n) return 0; // an interrupt, not a syscall
    if (filterPid.value !== 0 && pid !== filterPid.value) return 0;
    if (filterFailed.value !== 0 && ret >= 0n) return 0;
    if (filterErrno.value !== 0 && ret !== -BigInt(filterErrno.value)) return 0;
    let lat = 0n;
    if (measureLatency.value !== 0) {
      const t0 = start.get(toNumber(id & 0xffffffffn));
      if (t0 === null) return 0;
      lat = ktimeGetNs() - t0;
    }
    const key = byProcess.value !== 0 ? pid : toNumber(nr & 0xffffffffn);
    let v = data.get(key);
    if (!v) {
      const z = zero.get(0);
      if (z) data.set(key, z, 1 /* BPF_NOEXIST */);
      v = data.get(key);
    }
    if (v) {
      atomicAdd(v, "count", 1);
      if (byProcess.value !== 0)
        probeReadKernelStr(v.comm, addressOf(currentTask<task_struct>().group_leader.comm));
      if (measureLatency.value !== 0) atomicAdd(v, "total_ns", lat);
    }
    return 0;
  },
);
