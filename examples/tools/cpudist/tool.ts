// cpudist: on-CPU (or with -O off-CPU) time as a log2 histogram, the output of bcc's
// libbpf-tools cpudist.
//   node dist/examples/tools/cpudist/tool.js [-O] [-T] [-m] [-P | -L] [-p PID] [interval] [count]
import { Hist, MAX_SLOTS } from "./shared.js";
import { histLoop, intArg, main, start, type Out } from "../common.js";

export interface CpudistOptions {
  offcpu: boolean;
  timestamp: boolean;
  milliseconds: boolean;
  perProcess: boolean;
  perThread: boolean;
  pid: number;
  interval: number;
  times: number;
}

export function parse(argv: string[]): CpudistOptions {
  const o: CpudistOptions = {
    offcpu: false,
    timestamp: false,
    milliseconds: false,
    perProcess: false,
    perThread: false,
    pid: -1,
    interval: 99999999,
    times: 99999999,
  };
  let positional = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-O" || a === "--offcpu") o.offcpu = true;
    else if (a === "-T" || a === "--timestamp") o.timestamp = true;
    else if (a === "-m" || a === "--milliseconds") o.milliseconds = true;
    else if (a === "-P" || a === "--pids") o.perProcess = true;
    else if (a === "-L" || a === "--tids") o.perThread = true;
    else if (a === "-p" || a === "--pid") o.pid = intArg(a, argv[++i]);
    else if (!a.startsWith("-") && positional < 2) {
      if (positional++ === 0) o.interval = intArg("interval", a);
      else o.times = intArg("count", a);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  const o = parse(argv);
  const loaded = await start("cpudist", {
    globals: {
      targ_per_process: o.perProcess ? 1 : 0,
      targ_per_thread: o.perThread ? 1 : 0,
      targ_offcpu: o.offcpu ? 1 : 0,
      targ_ms: o.milliseconds ? 1 : 0,
      targ_tgid: o.pid,
    },
  });
  out(`Tracing ${o.offcpu ? "off" : "on"}-CPU time... Hit Ctrl-C to end.`);
  await histLoop(
    loaded,
    {
      map: "hists",
      decode: (v) => {
        const h = Hist.decode(v);
        return { slots: h.slots.slice(0, MAX_SLOTS), comm: h.comm };
      },
      label: o.perProcess
        ? (k, comm) => `pid = ${k} ${comm}`
        : o.perThread
          ? (k, comm) => `tid = ${k} ${comm}`
          : undefined,
      unit: o.milliseconds ? "msecs" : "usecs",
    },
    o,
    out,
    signal,
  );
}

main(import.meta, run);
