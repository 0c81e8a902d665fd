// opensnoop (bcc libbpf-tools) in TypeScript: every open/openat/openat2 with its result. The
// entry keeps the path pointer, flags and mode per thread; the exit reads the path and sends
// one record.
import {
  program,
  map,
  config,
  tracepoint,
  HashMap,
  RingBuf,
  pidTgid,
  uidGid,
  toNumber,
  comm,
  probeReadUser,
  probeReadUserStr,
} from "tsbpf/probe";
import { i32, u32, u8 } from "tsbpf/types";
import { SysEnter, SysExit } from "../syscalls.js";
import { OpenArgs, Open, OpenHow } from "./shared.js";

program({ license: "GPL" });

const targPid = config("targ_pid", i32, 0); // a thread id (0: all)
const targTgid = config("targ_tgid", i32, 0); // a process id (0: all)
const targUid = config("targ_uid", u32, 0xffffffff); // 0xffffffff: all
const targFailed = config("targ_failed", u8, 0);

const start = map("start", new HashMap(u32, OpenArgs, { maxEntries: 10240 }));
const events = map("events", new RingBuf(Open, { maxEntries: 1 << 20 }));

const O_CREAT = 0o100;
const O_TMPFILE = 0o20200000;

function allowed(): boolean {
  const id = pidTgid();
  if (targTgid.value !== 0 && targTgid.value !== toNumber(id >> 32n)) return false;
  if (targPid.value !== 0 && targPid.value !== toNumber(id & 0xffffffffn)) return false;
  if (targUid.value !== 0xffffffff && targUid.value !== toNumber(uidGid() & 0xffffffffn))
    return false;
  return true;
}

function remember(fname: bigint, flags: bigint, mode: bigint): void {
  const tid = toNumber(pidTgid() & 0xffffffffn);
  start.set(tid, {
    fname,
    flags: toNumber(flags & 0xffffffffn),
    mode: toNumber(mode & 0xffffffffn),
  });
}

export const enter_open = tracepoint("syscalls", "sys_enter_open", SysEnter, (ctx) => {
  if (allowed()) remember(ctx.fields.args[0], ctx.fields.args[1], ctx.fields.args[2]);
  return 0;
});

export const enter_openat = tracepoint("syscalls", "sys_enter_openat", SysEnter, (ctx) => {
  if (allowed()) remember(ctx.fields.args[1], ctx.fields.args[2], ctx.fields.args[3]);
  return 0;
});

export const enter_openat2 = tracepoint("syscalls", "sys_enter_openat2", SysEnter, (ctx) => {
  if (!allowed()) return 0;
  const how: OpenHow = { flags: 0n, mode: 0n, resolve: 0n };
  probeReadUser(how as unknown as number[], ctx.fields.args[2]);
  remember(ctx.fields.args[1], how.flags, how.mode);
  return 0;
});

function exit(ret: number): void {
  const tid = toNumber(pidTgid() & 0xffffffffn);
  const a = start.get(tid);
  if (!a) return;
  if (targFailed.value === 0 || ret < 0) {
    const e = events.reserve();
    if (e) {
      e.pid = toNumber(pidTgid() >> 32n);
      e.uid = toNumber(uidGid() & 0xffffffffn);
      comm(e.comm);
      probeReadUserStr(e.fname, a.fname);
      e.flags = a.flags;
      e.mode = (a.flags & O_CREAT) !== 0 || (a.flags & O_TMPFILE) === O_TMPFILE ? a.mode : 0;
      e.ret = ret;
      events.submit(e);
    }
  }
  start.delete(tid);
}

export const exit_open = tracepoint("syscalls", "sys_exit_open", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
export const exit_openat = tracepoint("syscalls", "sys_exit_openat", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
export const exit_openat2 = tracepoint("syscalls", "sys_exit_openat2", SysExit, (ctx) => {
  exit(toNumber(ctx.fields.ret));
  return 0;
});
