// sigsnoop / killsnoop: trace signals, the columns of bcc's libbpf-tools sigsnoop:
//   TIME  PID  COMM  SIG  TPID  TCOMM  RESULT
//   node dist/examples/tools/sigsnoop/tool.js [-x] [-k] [-n] [-p PID] [-s SIGS]
// -k traces the kill/tkill/tgkill syscalls (killsnoop) instead of every generated signal.
import { Signal } from "./shared.js";
import { clock, cstr, intArg, main, pad, start, stream, type Out } from "../common.js";

const NAMES = [
  "N/A",
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR1",
  "SIGSEGV",
  "SIGUSR2",
  "SIGPIPE",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCHLD",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS",
];
/** The C tool's name for a signal number (SIGNAL-32 … SIGNAL-64 for real-time ones). */
export function signalName(sig: number): string | undefined {
  if (sig >= 0 && sig < NAMES.length) return NAMES[sig];
  if (sig >= 32 && sig <= 64) return `SIGNAL-${sig}`;
  return undefined;
}

export interface SigsnoopOptions {
  failed: boolean;
  killOnly: boolean;
  names: boolean;
  pid: number;
  signals: number;
}

export function parse(argv: string[]): SigsnoopOptions {
  const o: SigsnoopOptions = { failed: false, killOnly: false, names: false, pid: 0, signals: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-x" || a === "--failed") o.failed = true;
    else if (a === "-k" || a === "--kill") o.killOnly = true;
    else if (a === "-n" || a === "--name") o.names = true;
    else if (a === "-p" || a === "--pid") o.pid = intArg(a, argv[++i]);
    else if (a === "-s" || a === "--signal")
      for (const s of (argv[++i] ?? "").split(",")) {
        const n = intArg(a, s);
        if (n < 1 || n > 31) throw new Error(`Invalid signal ${s}`);
        o.signals |= 1 << (n - 1);
      }
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

export function format(e: Signal, o: SigsnoopOptions): string {
  const name = o.names ? signalName(e.sig) : undefined;
  return `${pad(clock(), -8)} ${pad(e.pid, -7)} ${pad(cstr(e.comm), -16)} ${pad(name ?? e.sig, -12)} ${pad(e.tpid, -7)} ${pad(cstr(e.tcomm), -16)} ${pad(e.ret, -6)}`;
}

const SYSCALLS = [
  "kill_entry",
  "kill_exit",
  "tkill_entry",
  "tkill_exit",
  "tgkill_entry",
  "tgkill_exit",
];

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  const o = parse(argv);
  const loaded = await start("sigsnoop", {
    globals: { filtered_pid: o.pid, target_signals: o.signals, failed_only: o.failed ? 1 : 0 },
    skip: o.killOnly ? ["sig_trace"] : SYSCALLS,
  });
  out(
    `${pad("TIME", -8)} ${pad("PID", -7)} ${pad("COMM", -16)} ${pad("SIG", -12)} ${pad("TPID", -7)} ${pad("TCOMM", -16)} ${pad("RESULT", -6)}`,
  );
  await stream(loaded, signal, (raw) => out(format(Signal.decode(raw), o)));
}

main(import.meta, run);
