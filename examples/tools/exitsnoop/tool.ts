// exitsnoop: trace process exits, the columns of bcc's libbpf-tools exitsnoop:
//   PCOMM  PID  PPID  TID  AGE(s)  EXIT_CODE      (-t adds TIME(s))
//   node dist/examples/tools/exitsnoop/tool.js [-t] [-x] [-T] [-p PID]
import { Exit } from "./shared.js";
import { clock, cstr, intArg, main, pad, start, strsignal, stream, type Out } from "../common.js";

export interface ExitsnoopOptions {
  timestamp: boolean;
  failed: boolean;
  threaded: boolean;
  pid: number;
}

export function parse(argv: string[]): ExitsnoopOptions {
  const o: ExitsnoopOptions = { timestamp: false, failed: false, threaded: false, pid: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-t" || a === "--timestamp") o.timestamp = true;
    else if (a === "-x" || a === "--failed") o.failed = true;
    else if (a === "-T" || a === "--threaded") o.threaded = true;
    else if (a === "-p" || a === "--pid") o.pid = intArg(a, argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

export function format(e: Exit, o: ExitsnoopOptions): string {
  let line = o.timestamp ? `${pad(clock(), 8)} ` : "";
  const age = Number(e.exit_time - e.start_time) / 1e9;
  line += `${pad(cstr(e.comm), -16)} ${pad(e.pid, -7)} ${pad(e.ppid, -7)} ${pad(e.tid, -7)} ${pad(age.toFixed(2), -7)} `;
  if (!e.sig) return line + (e.exit_code ? `code ${e.exit_code}` : "0");
  const sig = e.sig & 0x7f;
  if (sig) line += `signal ${sig} (${strsignal(sig)})`;
  if (e.sig & 0x80) line += ", core dumped";
  return line;
}

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  const o = parse(argv);
  const loaded = await start("exitsnoop", {
    globals: {
      target_pid: o.pid,
      trace_failed_only: o.failed ? 1 : 0,
      trace_by_process: o.threaded ? 0 : 1,
    },
  });
  const time = o.timestamp ? `${pad("TIME(s)", -8)} ` : "";
  out(
    `${time}${pad("PCOMM", -16)} ${pad("PID", -7)} ${pad("PPID", -7)} ${pad("TID", -7)} ${pad("AGE(s)", -7)} EXIT_CODE`,
  );
  await stream(loaded, signal, (raw) => out(format(Exit.decode(raw), o)));
}

main(import.meta, run);
