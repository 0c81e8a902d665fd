// execsnoop: trace exec() syscalls, one line per exec, the columns of bcc's libbpf-tools
// execsnoop:  PCOMM  PID  PPID  RET  ARGS   (-T adds TIME, -U adds UID).
//   node dist/examples/tools/execsnoop/tool.js [-x] [-T] [-U] [-u UID] [--max-args N]
import { Exec, MAX_ARGS } from "./shared.js";
import { clock, cstr, intArg, main, pad, start, stream, type Out } from "../common.js";

export interface ExecsnoopOptions {
  /** -x: include failed execs */
  failed: boolean;
  /** -T: a TIME column */
  time: boolean;
  /** -U: a UID column */
  printUid: boolean;
  /** -u: only this uid */
  uid?: number;
  /** --max-args */
  maxArgs: number;
}

export function parse(argv: string[]): ExecsnoopOptions {
  const o: ExecsnoopOptions = { failed: false, time: false, printUid: false, maxArgs: 20 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-x" || a === "--fails") o.failed = true;
    else if (a === "-T" || a === "--time") o.time = true;
    else if (a === "-U" || a === "--print-uid") o.printUid = true;
    else if (a === "-u" || a === "--uid") o.uid = intArg(a, argv[++i]);
    else if (a === "--max-args") o.maxArgs = intArg(a, argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  if (o.maxArgs < 1 || o.maxArgs > MAX_ARGS)
    throw new Error(`Invalid MAX_ARGS ${o.maxArgs}, should be in [1, ${MAX_ARGS}] range`);
  return o;
}

/** The line the C tool prints for one exec (without TIME/UID columns unless asked). */
export function format(e: Exec, o: ExecsnoopOptions, maxArgs = o.maxArgs): string {
  let line = "";
  if (o.time) line += pad(clock(), -8) + " ";
  if (o.printUid) line += pad(e.uid, -6);
  line += `${pad(cstr(e.comm), -16)} ${pad(e.pid, -6)} ${pad(e.ppid, -6)} ${pad(e.retval, 3)} `;
  const n = Math.min(e.args_count, maxArgs);
  for (let i = 0; i < n; i++) line += cstr(e.args[i]!.s) + " ";
  if (e.args_count === maxArgs + 1) line += " ...";
  return line;
}

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  const o = parse(argv);
  const loaded = await start("execsnoop", {
    globals: {
      ignore_failed: o.failed ? 0 : 1,
      max_args: o.maxArgs,
      targ_uid: o.uid ?? 0xffffffff,
    },
  });
  let header = "";
  if (o.time) header += pad("TIME", -9);
  if (o.printUid) header += pad("UID", -6) + " ";
  out(header + `${pad("PCOMM", -16)} ${pad("PID", -6)} ${pad("PPID", -6)} ${pad("RET", 3)} ARGS`);
  await stream(loaded, signal, (raw) => out(format(Exec.decode(raw), o)));
}

main(import.meta, run);
