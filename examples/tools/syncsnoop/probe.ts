// syncsnoop (bcc libbpf-tools) in TypeScript: every sync-family syscall (sync, fsync,
// fdatasync, msync, sync_file_range(2), syncfs) as it is entered.
import {
  program,
  map,
  tracepoint,
  RingBuf,
  ktimeGetNs,
  comm,
  type TracepointContext,
} from "tsbpf/probe";
import type { trace_event_raw_sys_enter } from "../vmlinux.js";
import { Sync } from "./shared.js";

program({ license: "GPL" });

const events = map("events", new RingBuf(Sync, { maxEntries: 256 * 1024 }));

function report(sys: number): void {
  const e = events.reserve();
  if (!e) return;
  comm(e.comm);
  e.ts_us = ktimeGetNs() / 1000n;
  e.sys = sys;
  events.submit(e);
}

type Ctx = TracepointContext<trace_event_raw_sys_enter>;
export const sync = tracepoint("syscalls", "sys_enter_sync", (_: Ctx) => (report(1), 0));
export const fsync = tracepoint("syscalls", "sys_enter_fsync", (_: Ctx) => (report(2), 0));
export const fdatasync = tracepoint("syscalls", "sys_enter_fdatasync", (_: Ctx) => (report(3), 0));
export const msync = tracepoint("syscalls", "sys_enter_msync", (_: Ctx) => (report(4), 0));
export const sync_file_range = tracepoint(
  "syscalls",
  "sys_enter_sync_file_range",
  (_: Ctx) => (report(5), 0),
);
export const sync_file_range2 = tracepoint(
  "syscalls",
  "sys_enter_sync_file_range2",
  (_: Ctx) => (report(6), 0),
);
export const arm_sync_file_range = tracepoint(
  "syscalls",
  "sys_enter_arm_sync_file_range",
  (_: Ctx) => (report(7), 0),
);
export const syncfs = tracepoint("syscalls", "sys_enter_syncfs", (_: Ctx) => (report(8), 0));
