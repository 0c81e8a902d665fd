// execsnoop (bcc libbpf-tools) in TypeScript: every execve with its arguments. On entry the
// arguments are copied from user memory into a per-thread record; on exit the record gets the
// return value and the command name and goes to user space.
import {
  program,
  map,
  config,
  tracepoint,
  HashMap,
  ArrayMap,
  RingBuf,
  currentTask,
  pidTgid,
  uidGid,
  toNumber,
  comm,
  probeReadUser,
  probeReadUserStr,
} from "tsbpf/probe";
import { i32, u32, u8 } from "tsbpf/types";
import type { task_struct } from "../vmlinux.js";
import { Exec, Ptr, MAX_ARGS } from "./shared.js";
import { SysEnter, SysExit } from "../syscalls.js";

program({ license: "GPL" });

/** Only this uid (0xffffffff: everyone). */
const targUid = config("targ_uid", u32, 0xffffffff);
/** Arguments read per exec (1..MAX_ARGS). */
const maxArgs = config("max_args", u32, 20);
/** Do not report failed execs. */
const ignoreFailed = config("ignore_failed", u8, 0);

/** One zeroed record (never written): the initial value of each exec's record. */
const zero = map("zero", new ArrayMap(Exec, { maxEntries: 1 }));
const execs = map("execs", new HashMap(i32, Exec, { maxEntries: 10240 }));
const events = map("events", new RingBuf(Exec, { maxEntries: 1 << 20 }));

export const enter_execve = tracepoint("syscalls", "sys_enter_execve", SysEnter, (ctx) => {
  const uid = toNumber(uidGid() & 0xffffffffn);
  if (targUid.value !== 0xffffffff && targUid.value !== uid) return 0;
  const id = pidTgid();
  const tid = toNumber(id & 0xffffffffn);
  const empty = zero.get(0);
  if (!empty) return 0;
  if (execs.set(tid, empty, 1 /* BPF_NOEXIST */) !== 0) return 0;
  const e = execs.get(tid);
  if (!e) return 0;
  e.pid = toNumber(id >> 32n);
  e.uid = uid;
  e.ppid = currentTask<task_struct>().real_parent.tgid;
  if (probeReadUserStr(e.args[0].s, ctx.fields.args[0]) < 0) return 0;
  e.args_count = 1;
  const p: Ptr = { p: [0n] };
  for (let i = 1; i < MAX_ARGS; i++) {
    if (i >= maxArgs.value) break;
    if (probeReadUser(p.p as unknown as number[], ctx.fields.args[1] + BigInt(i * 8)) < 0) return 0;
    if (p.p[0] === 0n) return 0;
    if (probeReadUserStr(e.args[i].s, p.p[0]) < 0) return 0;
    e.args_count = i + 1;
  }
  // one more pointer: not NULL means there were more arguments than we read
  if (probeReadUser(p.p as unknown as number[], ctx.fields.args[1] + BigInt(maxArgs.value * 8)) < 0)
    return 0;
  if (p.p[0] !== 0n) e.args_count = maxArgs.value + 1;
  return 0;
});

export const exit_execve = tracepoint("syscalls", "sys_exit_execve", SysExit, (ctx) => {
  const tid = toNumber(pidTgid() & 0xffffffffn);
  const e = execs.get(tid);
  if (!e) return 0;
  const ret = toNumber(ctx.fields.ret);
  if (ignoreFailed.value === 0 || ret >= 0) {
    e.retval = ret;
    comm(e.comm);
    events.output(e);
  }
  execs.delete(tid);
  return 0;
});
