// runqslower: tasks that waited on a run queue longer than MIN_US (default 10000), the columns
// of bcc's libbpf-tools runqslower:  TIME  COMM  TID  LAT(us)   (-P adds PREV COMM, PREV TID)
//   node dist/examples/tools/runqslower/tool.js [-P] [-p PID] [-t TID] [-c COMM] [MIN_US]
import { RunqEvent } from "./shared.js";
import { clock, cstr, intArg, main, pad, start, stream, type Out } from "../common.js";

export interface RunqslowerOptions {
  previous: boolean;
  pid: number;
  tid: number;
  comm?: string;
  minUs: number;
}

export function parse(argv: string[]): RunqslowerOptions {
  const o: RunqslowerOptions = { previous: false, pid: 0, tid: 0, minUs: 10000 };
  let positional = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-P" || a === "--previous") o.previous = true;
    else if (a === "-p" || a === "--pid") o.pid = intArg(a, argv[++i]);
    else if (a === "-t" || a === "--tid") o.tid = intArg(a, argv[++i]);
    else if (a === "-c" || a === "--comm") o.comm = argv[++i];
    else if (!a.startsWith("-") && positional++ === 0) {
      o.minUs = intArg("MIN_US", a);
      if (o.minUs <= 0) throw new Error(`Invalid delay (in us): ${a}`);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

export function format(e: RunqEvent, o: RunqslowerOptions): string {
  const line = `${pad(clock(), -8)} ${pad(cstr(e.task), -16)} ${pad(e.pid, -6)} ${pad(e.delta_us, 14)}`;
  return o.previous ? `${line} ${pad(cstr(e.prev_task), -16)} ${pad(e.prev_pid, -6)}` : line;
}

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  const o = parse(argv);
  const comm = new Uint8Array(16);
  if (o.comm !== undefined) comm.set(Buffer.from(o.comm, "latin1").subarray(0, 15));
  const loaded = await start("runqslower", {
    globals: {
      targ_comm: comm,
      filter_comm: o.comm !== undefined ? 1 : 0,
      min_us: BigInt(o.minUs),
      targ_tgid: o.pid,
      targ_pid: o.tid,
    },
  });
  out(`Tracing run queue latency higher than ${o.minUs} us`);
  const head = `${pad("TIME", -8)} ${pad("COMM", -16)} ${pad("TID", -6)} ${pad("LAT(us)", 14)}`;
  out(o.previous ? `${head} ${pad("PREV COMM", -16)} ${pad("PREV TID", -6)}` : head);
  await stream(loaded, signal, (raw) => out(format(RunqEvent.decode(raw), o)));
}

main(import.meta, run);
