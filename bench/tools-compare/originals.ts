// How each examples/tools port runs on its clang-built C original (the object
// scripts/build-core-corpus.sh builds in .corpus/obj) under tsbpf's loader: the object, the
// original's program names where the port's differ, the fallbacks the C tools do not load on
// this kernel (raw_tp twins of tp_btf programs), and the translation of its events into the
// port's layout where the two differ (execsnoop's packed argument list, opensnoop's
// callers and full_path). Everything else — map names, `const volatile` names, event layouts —
// the ports share with the originals.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { struct, array, i32, u32, u64, u8 } from "tsbpf/types";
import type { ObjectOverride } from "../../examples/tools/common.js";
import { Exec, MAX_ARGS, ARG_SIZE } from "../../examples/tools/execsnoop/shared.js";
import { Open, PATH_MAX } from "../../examples/tools/opensnoop/shared.js";

/** bcc execsnoop.h `struct event`: the arguments packed NUL-separated in args[] */
const CExec = struct("CExec", {
  pid: i32,
  ppid: i32,
  uid: u32,
  retval: i32,
  args_count: i32,
  args_size: u32,
  comm: array(u8, 16),
  args: array(u8, 60 * 128),
});
/** bcc opensnoop.h `struct event` with path_helpers.h `struct full_path` */
const COpen = struct("COpen", {
  ts: u64,
  pid: i32,
  uid: u32,
  ret: i32,
  flags: i32,
  mode: u32,
  callers: array(u64, 2),
  comm: array(u8, 16),
  pathes: array(u8, 255 * 32),
  depth: u32,
  failed: i32,
});

/** An event padded to its full size (perf records of variable-size events are shorter). */
function full(raw: Uint8Array, size: number): Uint8Array {
  if (raw.length >= size) return raw;
  const b = new Uint8Array(size);
  b.set(raw);
  return b;
}

function execEvent(raw: Uint8Array): Uint8Array {
  const c = CExec.decode(full(raw, CExec.size));
  const bytes = c.args.subarray(0, Math.min(c.args_size, c.args.length));
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length && parts.length < MAX_ARGS;) {
    let end = bytes.indexOf(0, at);
    if (end < 0) end = bytes.length;
    parts.push(bytes.subarray(at, Math.min(end, at + ARG_SIZE - 1)));
    at = end + 1;
  }
  const args = Array.from({ length: MAX_ARGS }, (_, i) => {
    const s = new Uint8Array(ARG_SIZE);
    if (parts[i]) s.set(parts[i]!);
    return { s };
  });
  return Exec.encode({
    pid: c.pid,
    ppid: c.ppid,
    uid: c.uid,
    retval: c.retval,
    args_count: c.args_count,
    pad: 0,
    comm: c.comm,
    args,
  });
}

function openEvent(raw: Uint8Array): Uint8Array {
  const c = COpen.decode(full(raw, COpen.size));
  const fname = new Uint8Array(PATH_MAX);
  fname.set(c.pathes.subarray(0, Math.min(c.pathes.length, fname.length)));
  return Open.encode({
    ts: c.ts,
    pid: c.pid,
    uid: c.uid,
    ret: c.ret,
    flags: c.flags,
    mode: c.mode,
    pad: 0,
    comm: c.comm,
    fname,
  });
}

const SCHED_RAW = ["handle_sched_wakeup", "handle_sched_wakeup_new", "handle_sched_switch"];

/** The override for tool `name`, reading objects from `objDir`. */
export function original(name: string, objDir: string): ObjectOverride {
  const bcc = (f: string) => readFileSync(join(objDir, `bcc-${f}.o`));
  const boot = (f: string) => readFileSync(join(objDir, `bootstrap-${f}.o`));
  switch (name) {
    case "execsnoop":
      return { elf: bcc(name), event: execEvent };
    case "opensnoop":
      return { elf: bcc(name), event: openEvent };
    case "exitsnoop":
    case "sigsnoop":
    case "statsnoop":
    case "syscount":
      return { elf: bcc(name) };
    case "runqslower":
    case "runqlat":
      return { elf: bcc(name), skip: SCHED_RAW };
    case "cpudist": {
      // as cpudist.c does: `start` sized to pid_max (0 in the object), `hists` too
      const pidMax = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8"));
      return {
        elf: bcc(name),
        skip: ["sched_switch_tp"],
        maxEntries: { start: pidMax, hists: pidMax },
      };
    }
    case "syncsnoop": {
      const p = (s: string) => `tracepoint__syscalls__sys_enter_${s}`;
      const names = [
        "sync",
        "fsync",
        "fdatasync",
        "msync",
        "sync_file_range",
        "sync_file_range2",
        "arm_sync_file_range",
        "syncfs",
      ];
      return { elf: bcc(name), programs: Object.fromEntries(names.map((n) => [n, p(n)])) };
    }
    case "bootstrap":
    case "minimal":
      return { elf: boot(name) };
    default:
      throw new Error(`no original known for ${name}`);
  }
}
