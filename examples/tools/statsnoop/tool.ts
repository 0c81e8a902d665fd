// statsnoop: trace stat-family syscalls, the columns of bcc's libbpf-tools statsnoop:
//   PID  COMM  RET  ERR  PATH        (-t adds TIME(s), -s adds SYSCALL)
//   node dist/examples/tools/statsnoop/tool.js [-t] [-s] [-x] [-p PID]
// A relative path is printed after the directory of its descriptor (or the cwd), read from
// /proc as the C tool does.
import { readlinkSync } from "node:fs";
import { Stat, SYS_NAMES } from "./shared.js";
import { cstr, intArg, main, pad, start, stream, type Out } from "../common.js";

export interface StatsnoopOptions {
  timestamp: boolean;
  sysname: boolean;
  failed: boolean;
  pid: number;
}

export function parse(argv: string[]): StatsnoopOptions {
  const o: StatsnoopOptions = { timestamp: false, sysname: false, failed: false, pid: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-t" || a === "--timestamp") o.timestamp = true;
    else if (a === "-s" || a === "--sys-name") o.sysname = true;
    else if (a === "-x" || a === "--failed") o.failed = true;
    else if (a === "-p" || a === "--pid") o.pid = intArg(a, argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const AT_FDCWD = -100;

/** What /proc says descriptor `fd` (or the cwd) of `pid` is; "" when it is gone. */
function fdPath(pid: number, fd: number, dir: boolean): string {
  if (fd === -1) return "";
  try {
    const p = readlinkSync(fd === AT_FDCWD ? `/proc/${pid}/cwd` : `/proc/${pid}/fd/${fd}`);
    return dir ? p + "/" : p;
  } catch {
    return "";
  }
}

export function formatter(o: StatsnoopOptions): (e: Stat) => string {
  let first = 0n;
  return (e) => {
    const fd = e.ret >= 0 ? e.ret : -1;
    const err = e.ret >= 0 ? 0 : -e.ret;
    if (first === 0n) first = e.ts_ns;
    let line = o.timestamp ? `${pad((Number(e.ts_ns - first) / 1e9).toFixed(9), -14)} ` : "";
    line += `${pad(e.pid, -7)} ${pad(cstr(e.comm), -20)} ${pad(fd, -4)} ${pad(err, -4)}`;
    if (o.sysname) line += ` ${pad(SYS_NAMES[e.type] ?? "N/A", -10)}`;
    const path = cstr(e.pathname);
    const abs = path.startsWith("/");
    return `${line} ${abs ? "" : fdPath(e.pid, e.fd, false)}${abs ? "" : fdPath(e.pid, e.dirfd, true)}${path}`;
  };
}

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  const o = parse(argv);
  const loaded = await start("statsnoop", {
    globals: { target_pid: o.pid, trace_failed_only: o.failed ? 1 : 0 },
  });
  let header = o.timestamp ? `${pad("TIME(s)", -14)} ` : "";
  header += `${pad("PID", -7)} ${pad("COMM", -20)} ${pad("RET", -4)} ${pad("ERR", -4)}`;
  if (o.sysname) header += ` ${pad("SYSCALL", -10)}`;
  out(`${header} PATH`);
  const format = formatter(o);
  await stream(loaded, signal, (raw) => out(format(Stat.decode(raw))));
}

main(import.meta, run);
