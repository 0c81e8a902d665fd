// What every tool of examples/tools shares: compile its probe, load and attach it with the
// tsbpf Loader, hand each ring-buffer event to the tool's formatter, stop on Ctrl-C or when
// the caller's signal fires. A tool is `run(argv, out, signal)` so tests drive it in-process;
// run as a script (`node dist/examples/tools/NAME/tool.js ARGS`) it prints to stdout.
import { fileURLToPath, pathToFileURL } from "node:url";
import { compileProbe } from "../../src/compiler/index.js";
import { Loader, type Loaded } from "tsbpf";

/** Where a tool's output lines go (stdout for the command line, an array in tests). */
export type Out = (line: string) => void;

const compiled = new Map<string, Uint8Array>();

/** The ELF of examples/tools/NAME/probe.ts, compiled once per process. */
export function probeElf(name: string): Uint8Array {
  let elf = compiled.get(name);
  if (!elf) {
    const path = fileURLToPath(new URL(`../../../examples/tools/${name}/probe.ts`, import.meta.url));
    elf = compileProbe(path).elf;
    compiled.set(name, elf);
  }
  return elf;
}

export interface StartOptions {
  /** `config()` values of the probe (the C tools' `const volatile` settings) */
  globals?: Record<string, number | bigint | Uint8Array>;
  /** programs not to load (the C tools' `bpf_program__set_autoload(…, false)`) */
  skip?: string[];
  /** the Loader, for tools that attach uprobes and the like */
  loader?: (l: Loader) => Loader;
}

/** Load and attach the tool's probe. */
export async function start(name: string, opts: StartOptions = {}): Promise<Loaded> {
  let loader = Loader.create().options({
    globals: opts.globals ?? {},
    autoload: Object.fromEntries((opts.skip ?? []).map((p) => [p, false])),
  });
  if (opts.loader) loader = opts.loader(loader);
  return loader.load(probeElf(name));
}

/**
 * Feed every event of the loaded probe to `onEvent` until `signal` aborts (the probe is then
 * detached and closed). Lost events are reported through `out` as the C tools print them.
 */
export async function stream(
  loaded: Loaded,
  signal: AbortSignal,
  onEvent: (raw: Uint8Array) => void,
): Promise<void> {
  const stop = () => loaded.close();
  if (signal.aborted) stop();
  else signal.addEventListener("abort", stop, { once: true });
  try {
    for await (const { events } of loaded.events) for (const raw of events) onEvent(raw);
  } finally {
    signal.removeEventListener("abort", stop);
    loaded.close();
  }
}

/** A NUL-terminated C string from bytes. */
export function cstr(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString("latin1");
}

/** printf's `%-Ns` / `%Ns` (a negative width pads on the right, as `-` does in C). */
export function pad(value: string | number | bigint, width: number): string {
  const s = String(value);
  return width < 0 ? s.padEnd(-width) : s.padStart(width);
}

/** `HH:MM:SS` in local time, as the C tools' `str_timestamp("%H:%M:%S")`. */
export function clock(d = new Date()): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Integer option value, or an error naming the option. */
export function intArg(name: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n)) throw new Error(`${name} needs an integer, got ${value ?? "nothing"}`);
  return n;
}

/**
 * Run a tool as a command when its module is the process's entry point: print to stdout,
 * stop on SIGINT/SIGTERM, exit 1 with the error's message on failure.
 */
export function main(
  meta: ImportMeta,
  run: (argv: string[], out: Out, signal: AbortSignal) => Promise<void>,
): void {
  if (!process.argv[1] || meta.url !== pathToFileURL(process.argv[1]).href) return;
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort());
  process.once("SIGTERM", () => ac.abort());
  run(process.argv.slice(2), (l) => process.stdout.write(l + "\n"), ac.signal).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(`error: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}

const SIGNALS = [
  "Unknown signal 0", "Hangup", "Interrupt", "Quit", "Illegal instruction",
  "Trace/breakpoint trap", "Aborted", "Bus error", "Floating point exception", "Killed",
  "User defined signal 1", "Segmentation fault", "User defined signal 2", "Broken pipe",
  "Alarm clock", "Terminated", "Stack fault", "Child exited", "Continued", "Stopped (signal)",
  "Stopped", "Stopped (tty input)", "Stopped (tty output)", "Urgent I/O condition",
  "CPU time limit exceeded", "File size limit exceeded", "Virtual timer expired",
  "Profiling timer expired", "Window changed", "I/O possible", "Power failure",
  "Bad system call",
];

/** glibc's `strsignal(sig)` on Linux (what the C tools print beside a signal number). */
export function strsignal(sig: number): string {
  if (sig >= 0 && sig < SIGNALS.length) return SIGNALS[sig]!;
  if (sig >= 34 && sig <= 64) return `Real-time signal ${sig - 34}`;
  return `Unknown signal ${sig}`;
}
