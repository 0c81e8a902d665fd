// runqlat (bcc libbpf-tools) in TypeScript: a log2 histogram of run-queue latency (wakeup or
// preemption to running), for everything, per process (-P) or per thread (-L).
import {
  program,
  map,
  config,
  tpBtf,
  HashMap,
  ArrayMap,
  kernelPtr,
  addressOf,
  ktimeGetNs,
  probeReadKernelStr,
} from "tsbpf/probe";
import { i32, u32, u64, u8 } from "tsbpf/types";
import type { task_struct } from "../vmlinux.js";
import { log2l } from "../log2.js";
import { Hist, MAX_SLOTS } from "./shared.js";

program({ license: "GPL" });

const perProcess = config("targ_per_process", u8, 0);
const perThread = config("targ_per_thread", u8, 0);
const millis = config("targ_ms", u8, 0);
const targTgid = config("targ_tgid", i32, 0);

const start = map("start", new HashMap(u32, u64, { maxEntries: 10240 }));
const hists = map("hists", new HashMap(u32, Hist, { maxEntries: 10240 }));
/** one zeroed histogram (never written): the first value of each key */
const zero = map("zero", new ArrayMap(Hist, { maxEntries: 1 }));

function enqueue(tgid: number, pid: number): void {
  if (pid === 0) return;
  if (targTgid.value !== 0 && targTgid.value !== tgid) return;
  start.set(pid, ktimeGetNs());
}

export const sched_wakeup = tpBtf("sched_wakeup", (ctx) => {
  const p = kernelPtr<task_struct>(ctx.arg(0));
  enqueue(p.tgid, p.pid);
  return 0;
});

export const sched_wakeup_new = tpBtf("sched_wakeup_new", (ctx) => {
  const p = kernelPtr<task_struct>(ctx.arg(0));
  enqueue(p.tgid, p.pid);
  return 0;
});

export const sched_switch = tpBtf("sched_switch", (ctx) => {
  const prev = kernelPtr<task_struct>(ctx.arg(1));
  const next = kernelPtr<task_struct>(ctx.arg(2));
  if (prev.__state === 0) enqueue(prev.tgid, prev.pid);
  const pid = next.pid;
  const ts = start.get(pid);
  if (ts === null) return 0;
  const now = ktimeGetNs();
  if (now >= ts) {
    const key = perProcess.value !== 0 ? next.tgid : perThread.value !== 0 ? pid : 0xffffffff;
    let h = hists.get(key);
    if (!h) {
      const z = zero.get(0);
      if (z) hists.set(key, z, 1 /* BPF_NOEXIST */);
      h = hists.get(key);
    }
    if (h) {
      if (h.comm[0] === 0) probeReadKernelStr(h.comm, addressOf(next.comm));
      const delta = (now - ts) / (millis.value !== 0 ? 1000000n : 1000n);
      let slot = log2l(delta);
      if (slot >= MAX_SLOTS) slot = MAX_SLOTS - 1;
      h.slots[slot]++; // not atomic: atomicAdd takes a field name, not an array element
    }
  }
  start.delete(pid);
  return 0;
});
