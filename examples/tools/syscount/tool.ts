// syscount: syscalls counted per syscall or per process, the output of bcc's libbpf-tools
// syscount (top N by count, or by total latency with -L).
//   node dist/examples/tools/syscount/tool.js [-P] [-L] [-m] [-x] [-e ERRNO] [-p PID] [-i SEC] [-d SEC] [-T TOP]
// Syscall names come from the kernel headers' unistd_64.h (linux-libc-dev), else "[unknown: N]".
import { readFileSync } from "node:fs";
import { Data } from "./shared.js";
import { clock, cstr, intArg, main, pad, sleep, start, type Out } from "../common.js";

export interface SyscountOptions {
  process: boolean;
  latency: boolean;
  milliseconds: boolean;
  failures: boolean;
  errno: number;
  pid: number;
  interval: number;
  duration: number;
  top: number;
}

export function parse(argv: string[]): SyscountOptions {
  const o: SyscountOptions = {
    process: false,
    latency: false,
    milliseconds: false,
    failures: false,
    errno: 0,
    pid: 0,
    interval: 0,
    duration: 0,
    top: 10,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-P" || a === "--process") o.process = true;
    else if (a === "-L" || a === "--latency") o.latency = true;
    else if (a === "-m" || a === "--milliseconds") o.milliseconds = true;
    else if (a === "-x" || a === "--failures") o.failures = true;
    else if (a === "-e" || a === "--errno") o.errno = intArg(a, argv[++i]);
    else if (a === "-p" || a === "--pid") o.pid = intArg(a, argv[++i]);
    else if (a === "-i" || a === "--interval") o.interval = intArg(a, argv[++i]);
    else if (a === "-d" || a === "--duration") o.duration = intArg(a, argv[++i]);
    else if (a === "-T" || a === "--top") o.top = intArg(a, argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

let names: Map<number, string> | undefined;
/** x86-64 syscall names by number, from the kernel's user-space headers. */
export function syscallName(nr: number): string | undefined {
  if (!names) {
    names = new Map();
    for (const dir of ["/usr/include/x86_64-linux-gnu/asm", "/usr/include/asm"]) {
      try {
        const text = readFileSync(`${dir}/unistd_64.h`, "utf8");
        for (const m of text.matchAll(/^#define __NR_(\w+) (\d+)$/gm))
          names.set(Number(m[2]), m[1]!);
        break;
      } catch {
        // try the next place
      }
    }
  }
  return names.get(nr);
}

interface Row {
  key: number;
  count: bigint;
  total_ns: bigint;
  comm: string;
}

export function print(rows: Row[], o: SyscountOptions, out: Out): void {
  rows.sort((a, b) => {
    const x = o.latency ? a.total_ns : a.count;
    const y = o.latency ? b.total_ns : b.count;
    return x > y ? -1 : x === y ? 0 : 1;
  });
  const col = o.process ? "PID    COMM" : "SYSCALL";
  const agg = (r: Row) =>
    o.process
      ? `${pad(r.key >>> 0, -6)} ${pad(r.comm, -15)}`
      : (syscallName(r.key) ?? `[unknown: ${r.key >>> 0}]`);
  if (o.latency)
    out(
      `${pad(col, -22)} ${pad("COUNT", 8)} ${pad(o.milliseconds ? "TIME (ms)" : "TIME (us)", 16)}`,
    );
  else out(`${pad(col, -22)} ${pad("COUNT", 8)}`);
  const div = o.milliseconds ? 1e6 : 1e3;
  for (const r of rows.slice(0, o.top)) {
    const line = `${pad(agg(r), -22)} ${pad(r.count, 8)}`;
    out(o.latency ? `${line} ${pad((Number(r.total_ns) / div).toFixed(3), 16)}` : line);
  }
  out("");
}

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  const o = parse(argv);
  const loaded = await start("syscount", {
    globals: {
      count_by_process: o.process ? 1 : 0,
      measure_latency: o.latency ? 1 : 0,
      filter_failed: o.failures ? 1 : 0,
      filter_errno: o.errno,
      filter_pid: o.pid,
    },
  });
  const data = loaded.map("data");
  try {
    out(`Tracing syscalls, printing top ${o.top}... Ctrl+C to quit.`);
    let seconds = 0;
    for (let go = true; go;) {
      if (await sleep((o.interval || 1) * 1000, signal)) go = false;
      if (o.duration) {
        seconds += o.interval || 1;
        if (seconds >= o.duration) go = false;
      }
      if (go && !o.interval) continue;
      const rows: Row[] = [];
      const keys: Uint8Array[] = [];
      for (const [k, v] of data) {
        const d = Data.decode(v);
        keys.push(k.slice());
        rows.push({
          key: Buffer.from(k).readUInt32LE(0),
          count: d.count,
          total_ns: d.total_ns,
          comm: cstr(d.comm),
        });
      }
      for (const k of keys) data.delete(k);
      if (rows.length === 0) continue;
      const d = new Date();
      out(`[${clock(d)}]`);
      print(rows, o, out);
    }
  } finally {
    loaded.close();
  }
}

main(import.meta, run);
