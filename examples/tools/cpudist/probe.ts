// cpudist (bcc libbpf-tools) in TypeScript: a log2 histogram of how long tasks run on a CPU
// before they switch out (or, with -O, how long they stay off it), from sched_switch.
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
const offcpu = config("targ_offcpu", u8, 0);
const millis = config("targ_ms", u8, 0);
const targTgid = config("targ_tgid", i32, -1);

const start = map("start", new HashMap(u32, u64, { maxEntries: 10240 }));
const hists = map("hists", new HashMap(u32, Hist, { maxEntries: 10240 }));
const zero = map("zero", new ArrayMap(Hist, { maxEntries: 1 }));

function storeStart(tgid: number, pid: number, ts: bigint): void {
  if (targTgid.value !== -1 && targTgid.value !== tgid) return;
  start.set(pid, ts);
}

function updateHist(task: task_struct, tgid: number, pid: number, ts: bigint): void {
  if (targTgid.value !== -1 && targTgid.value !== tgid) return;
  const t0 = start.get(pid);
  if (t0 === null || ts < t0) return;
  const key = perProcess.value !== 0 ? tgid : perThread.value !== 0 ? pid : 0xffffffff;
  let h = hists.get(key);
  if (!h) {
    const z = zero.get(0);
    if (z) hists.set(key, z);
    h = hists.get(key);
    if (!h) return;
    probeReadKernelStr(h.comm, addressOf(task.comm));
  }
  const delta = (ts - t0) / (millis.value !== 0 ? 1000000n : 1000n);
  let slot = log2l(delta);
  if (slot >= MAX_SLOTS) slot = MAX_SLOTS - 1;
  h.slots[slot]++; // not atomic: atomicAdd takes a field name, not an array element
}

export const sched_switch_btf = tpBtf("sched_switch", (ctx) => {
  const prev = kernelPtr<task_struct>(ctx.arg(1));
  const next = kernelPtr<task_struct>(ctx.arg(2));
  const ts = ktimeGetNs();
  if (offcpu.value !== 0) {
    storeStart(prev.tgid, prev.pid, ts);
    updateHist(next, next.tgid, next.pid, ts);
  } else {
    if (prev.__state === 0) updateHist(prev, prev.tgid, prev.pid, ts);
    storeStart(next.tgid, next.pid, ts);
  }
  return 0;
});
