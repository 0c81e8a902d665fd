// statsnoop (bcc libbpf-tools) in TypeScript: stat-family syscalls (statfs, stat, lstat,
// fstat, fstatat, statx) with their result and path.
import {
  program,
  map,
  config,
  tracepoint,
  HashMap,
  RingBuf,
  pidTgid,
  ktimeGetNs,
  toNumber,
  comm,
  probeReadUserStr,
} from "tsbpf/probe";
import { i32, u32, u8 } from "tsbpf/types";
import { SysEnter, SysExit } from "../syscalls.js";
import { StatArgs, Stat } from "./shared.js";

program({ license: "GPL" });

const targetPid = config("target_pid", i32, 0);
const failedOnly = config("trace_failed_only", u8, 0);

const values = map("values", new HashMap(u32, StatArgs, { maxEntries: 10240 }));
const events = map("events", new RingBuf(Stat, { maxEntries: 256 * 1024 }));

const NO_FD = -1;

function enter(type: number, fd: number, dirfd: number, pathname: bigint): void {
  if (pathname === 0n && fd === NO_FD && dirfd === NO_FD) return;
  const id = pidTgid();
  if (targetPid.value !== 0 && targetPid.value !== toNumber(id >> 32n)) return;
  values.set(toNumber(id & 0xffffffffn), { fd, dirfd, pathname, type });
}

function exit(ret: number): void {
  const id = pidTgid();
  const tid = toNumber(id & 0xffffffffn);
  const v = values.get(tid);
  if (!v) return;
  if (failedOnly.value === 0 || ret < 0) {
    const e = events.reserve();
    if (e) {
      e.pid = toNumber(id >> 32n);
      e.ts_ns = ktimeGetNs();
      e.ret = ret;
      e.type = v.type;
      comm(e.comm);
      e.fd = v.fd;
      e.dirfd = v.dirfd;
      if (v.pathname !== 0n) probeReadUserStr(e.pathname, v.pathname);
      events.submit(e);
    }
  }
  values.delete(tid);
}

const int = (x: bigint) => toNumber(x & 0xffffffffn) | 0;

export const statfs_entry = tracepoint("syscalls", "sys_enter_statfs", SysEnter, (ctx) => {
  enter(1, NO_FD, NO_FD, ctx.fields.args[0]);
  return 0;
});
export const newstat_entry = tracepoint("syscalls", "sys_enter_newstat", SysEnter, (ctx) => {
  enter(2, NO_FD, NO_FD, ctx.fields.args[0]);
  return 0;
});
export const statx_entry = tracepoint("syscalls", "sys_enter_statx", SysEnter, (ctx) => {
  enter(3, NO_FD, int(ctx.fields.args[0]), ctx.fields.args[1]);
  return 0;
});
export const newfstat_entry = tracepoint("syscalls", "sys_enter_newfstat", SysEnter, (ctx) => {
  enter(4, int(ctx.fields.args[0]), NO_FD, 0n);
  return 0;
});
export const newfstatat_entry = tracepoint("syscalls", "sys_enter_newfstatat", SysEnter, (ctx) => {
  enter(5, NO_FD, int(ctx.fields.args[0]), ctx.fields.args[1]);
  return 0;
});
export const newlstat_entry = tracepoint("syscalls", "sys_enter_newlstat", SysEnter, (ctx) => {
  enter(6, NO_FD, NO_FD, ctx.fields.args[0]);
  return 0;
});

export const statfs_return = tracepoint("syscalls", "sys_exit_statfs", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
export const newstat_return = tracepoint("syscalls", "sys_exit_newstat", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
export const statx_return = tracepoint("syscalls", "sys_exit_statx", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
export const newfstat_return = tracepoint("syscalls", "sys_exit_newfstat", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
export const newfstatat_return = tracepoint("syscalls", "sys_exit_newfstatat", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
export const newlstat_return = tracepoint("syscalls", "sys_exit_newlstat", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
