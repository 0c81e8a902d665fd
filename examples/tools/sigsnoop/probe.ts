// sigsnoop (bcc libbpf-tools) in TypeScript: signals as the kernel generates them
// (signal/signal_generate), or with -k (killsnoop) the kill/tkill/tgkill syscalls and their
// results.
import {
  program,
  map,
  config,
  tracepoint,
  HashMap,
  RingBuf,
  pidTgid,
  toNumber,
  comm,
  probeReadKernel,
  addressOf,
  type TracepointContext,
} from "tsbpf/probe";
import { i32, u32, u8 } from "tsbpf/types";
import type { trace_event_raw_signal_generate } from "../vmlinux.js";
import { SysEnter, SysExit } from "../syscalls.js";
import { Signal } from "./shared.js";

program({ license: "Dual BSD/GPL" });

const filteredPid = config("filtered_pid", i32, 0);
/** bit `sig - 1` set for each signal to trace (0: all) */
const targetSignals = config("target_signals", u32, 0);
const failedOnly = config("failed_only", u8, 0);

const values = map("values", new HashMap(u32, Signal, { maxEntries: 10240 }));
const events = map("events", new RingBuf(Signal, { maxEntries: 256 * 1024 }));

function wanted(sig: number): boolean {
  if (targetSignals.value === 0) return true;
  return (targetSignals.value & (1 << (sig - 1))) !== 0;
}

function enter(tpid: number, sig: number): void {
  if (!wanted(sig)) return;
  const id = pidTgid();
  const pid = toNumber(id >> 32n);
  if (filteredPid.value !== 0 && pid !== filteredPid.value) return;
  const e: Signal = { pid, tpid, sig, ret: 0, comm: new Uint8Array(16), tcomm: new Uint8Array(16) };
  // The target's name needs the bpf_task_from_pid kfunc, which probes cannot call yet.
  e.tcomm[0] = 0x4e; // "N/A"
  e.tcomm[1] = 0x2f;
  e.tcomm[2] = 0x41;
  comm(e.comm);
  values.set(toNumber(id & 0xffffffffn), e);
}

function exit(ret: number): void {
  const tid = toNumber(pidTgid() & 0xffffffffn);
  const e = values.get(tid);
  if (!e) return;
  if (failedOnly.value === 0 || ret < 0) {
    e.ret = ret;
    events.output(e);
  }
  values.delete(tid);
}

export const kill_entry = tracepoint("syscalls", "sys_enter_kill", SysEnter, (ctx) => {
  enter(toNumber(ctx.fields.args[0] & 0xffffffffn), toNumber(ctx.fields.args[1] & 0xffffffffn));
  return 0;
});
export const kill_exit = tracepoint("syscalls", "sys_exit_kill", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
export const tkill_entry = tracepoint("syscalls", "sys_enter_tkill", SysEnter, (ctx) => {
  enter(toNumber(ctx.fields.args[0] & 0xffffffffn), toNumber(ctx.fields.args[1] & 0xffffffffn));
  return 0;
});
export const tkill_exit = tracepoint("syscalls", "sys_exit_tkill", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
export const tgkill_entry = tracepoint("syscalls", "sys_enter_tgkill", SysEnter, (ctx) => {
  enter(toNumber(ctx.fields.args[1] & 0xffffffffn), toNumber(ctx.fields.args[2] & 0xffffffffn));
  return 0;
});
export const tgkill_exit = tracepoint("syscalls", "sys_exit_tgkill", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});

export const sig_trace = tracepoint(
  "signal",
  "signal_generate",
  (ctx: TracepointContext<trace_event_raw_signal_generate>) => {
    const ret = ctx.fields.errno;
    const sig = ctx.fields.sig;
    if (failedOnly.value !== 0 && ret === 0) return 0;
    if (!wanted(sig)) return 0;
    const pid = toNumber(pidTgid() >> 32n);
    if (filteredPid.value !== 0 && pid !== filteredPid.value) return 0;
    const e = events.reserve();
    if (!e) return 0;
    e.pid = pid;
    e.tpid = ctx.fields.pid;
    e.sig = sig;
    e.ret = ret;
    comm(e.comm);
    // the record holds the target's name (the C tool looks the task up by pid instead)
    probeReadKernel(e.tcomm, addressOf(ctx.fields.comm));
    events.submit(e);
    return 0;
  },
);
