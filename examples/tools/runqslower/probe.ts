// runqslower (bcc libbpf-tools) in TypeScript: tasks that waited longer than a threshold on
// a run queue. A wakeup (or a preempted task still runnable at a switch) stamps the task; the
// switch that runs it measures the wait. tp_btf programs: task_struct read directly.
import {
  program,
  map,
  config,
  global,
  tpBtf,
  HashMap,
  RingBuf,
  kernelPtr,
  addressOf,
  ktimeGetNs,
  probeReadKernel,
  probeReadKernelStr,
} from "tsbpf/probe";
import { array, i32, u32, u64, u8, struct, type Infer } from "tsbpf/types";
import type { task_struct } from "../vmlinux.js";
import { RunqEvent } from "./shared.js";

program({ license: "GPL" });

/** -c: only tasks whose name starts with this (filter_comm set) */
const targComm = global("targ_comm", array(u8, 16)); // (an array config() cannot be initialised)
const filterComm = config("filter_comm", u8, 0);
const minUs = config("min_us", u64, 0n);
const targPid = config("targ_pid", i32, 0); // a thread (0: all)
const targTgid = config("targ_tgid", i32, 0); // a process (0: all)

const start = map("start", new HashMap(u32, u64, { maxEntries: 10240 }));
const events = map("events", new RingBuf(RunqEvent, { maxEntries: 256 * 1024 }));

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- the layout of `Comm` locals
const Comm = struct("Comm", { s: array(u8, 16) });
type Comm = Infer<typeof Comm>;

function enqueue(p: task_struct): void {
  const pid = p.pid;
  if (pid === 0) return;
  if (targTgid.value !== 0 && targTgid.value !== p.tgid) return;
  if (targPid.value !== 0 && targPid.value !== pid) return;
  if (filterComm.value !== 0) {
    const c: Comm = { s: new Uint8Array(16) };
    probeReadKernel(c.s, addressOf(p.comm));
    for (let i = 0; i < 16; i++) {
      if (targComm.value[i] === 0) break;
      if (c.s[i] !== targComm.value[i]) return;
    }
  }
  start.set(pid, ktimeGetNs());
}

export const sched_wakeup = tpBtf("sched_wakeup", (ctx) => {
  enqueue(kernelPtr<task_struct>(ctx.arg(0)));
  return 0;
});

export const sched_wakeup_new = tpBtf("sched_wakeup_new", (ctx) => {
  enqueue(kernelPtr<task_struct>(ctx.arg(0)));
  return 0;
});

export const sched_switch = tpBtf("sched_switch", (ctx) => {
  const prev = kernelPtr<task_struct>(ctx.arg(1));
  const next = kernelPtr<task_struct>(ctx.arg(2));
  // preempted while runnable (TASK_RUNNING): it waits on the queue from now
  if (prev.__state === 0) enqueue(prev);
  const pid = next.pid;
  const ts = start.get(pid);
  if (ts === null) return 0;
  const delta = (ktimeGetNs() - ts) / 1000n;
  if (minUs.value !== 0n && delta <= minUs.value) return 0;
  const e = events.reserve();
  if (!e) return 0;
  e.pid = pid;
  e.prev_pid = prev.pid;
  e.delta_us = delta;
  probeReadKernelStr(e.task, addressOf(next.comm));
  probeReadKernelStr(e.prev_task, addressOf(prev.comm));
  events.submit(e);
  start.delete(pid);
  return 0;
});
