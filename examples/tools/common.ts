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

/**
 * Another object for a tool (bench/tools-compare.ts runs each tool on the clang-built C
 * original too): its bytes, the names of its programs where they differ from the port's, more
 * programs not to load (the originals' fallbacks, e.g. raw_tp twins of tp_btf programs), and
 * a translation of its events into the port's layout where the two differ.
 */
export interface ObjectOverride {
  elf: Uint8Array;
  programs?: Record<string, string>;
  skip?: string[];
  event?: (raw: Uint8Array) => Uint8Array;
  /** map sizes the original's user space sets before load */
  maxEntries?: Record<string, number>;
}
const overrides = new Map<string, ObjectOverride>();
const translations = new WeakMap<Loaded, (raw: Uint8Array) => Uint8Array>();

/** Run the tool `name` on another object from now on (see ObjectOverride). */
export function useObject(name: string, o: ObjectOverride): void {
  overrides.set(name, o);
}

/** The ELF of examples/tools/NAME/probe.ts, compiled once per process. */
export function probeElf(name: string): Uint8Array {
  let elf = compiled.get(name);
  if (!elf) {
    const path = fileURLToPath(
      new URL(`../../../examples/tools/${name}/probe.ts`, import.meta.url),
    );
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
  const o = overrides.get(name);
  const skip = (opts.skip ?? []).map((p) => o?.programs?.[p] ?? p).concat(o?.skip ?? []);
  let loader = Loader.create().options({
    globals: opts.globals ?? {},
    autoload: Object.fromEntries(skip.map((p) => [p, false])),
    ...(o?.maxEntries ? { maxEntries: o.maxEntries } : {}),
  });
  if (opts.loader) loader = opts.loader(loader);
  const loaded = await loader.load(o ? o.elf : probeElf(name));
  if (o?.event) translations.set(loaded, o.event);
  return loaded;
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
    const translate = translations.get(loaded);
    for await (const { events } of loaded.events)
      for (const raw of events) onEvent(translate ? translate(raw) : raw);
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
  if (value === undefined || !Number.isInteger(n))
    throw new Error(`${name} needs an integer, got ${value ?? "nothing"}`);
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
  "Unknown signal 0",
  "Hangup",
  "Interrupt",
  "Quit",
  "Illegal instruction",
  "Trace/breakpoint trap",
  "Aborted",
  "Bus error",
  "Floating point exception",
  "Killed",
  "User defined signal 1",
  "Segmentation fault",
  "User defined signal 2",
  "Broken pipe",
  "Alarm clock",
  "Terminated",
  "Stack fault",
  "Child exited",
  "Continued",
  "Stopped (signal)",
  "Stopped",
  "Stopped (tty input)",
  "Stopped (tty output)",
  "Urgent I/O condition",
  "CPU time limit exceeded",
  "File size limit exceeded",
  "Virtual timer expired",
  "Profiling timer expired",
  "Window changed",
  "I/O possible",
  "Power failure",
  "Bad system call",
];

/** glibc's `strsignal(sig)` on Linux (what the C tools print beside a signal number). */
export function strsignal(sig: number): string {
  if (sig >= 0 && sig < SIGNALS.length) return SIGNALS[sig]!;
  if (sig >= 34 && sig <= 64) return `Real-time signal ${sig - 34}`;
  return `Unknown signal ${sig}`;
}

/** Resolves after `ms`, or at once when `signal` aborts (true then). */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      clearInterval(timer);
      resolve(signal.aborted);
    };
    // past setTimeout's limit (~24.8 days, the C tools' "forever" default): only the signal
    // ends the wait, and a timer that never fires keeps the process alive until then
    const timer =
      ms < 2 ** 31
        ? setTimeout(() => {
            signal.removeEventListener("abort", done);
            resolve(false);
          }, ms)
        : setInterval(() => {}, 2 ** 31 - 1);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * The lines of the C tools' `print_log2_hist(vals, n, type)` (trace_helpers.c): one row per
 * power-of-two bucket up to the last non-empty one, with a bar of up to 40 stars.
 */
export function log2Hist(vals: ArrayLike<number>, type: string): string[] {
  let idxMax = -1;
  let valMax = 0;
  for (let i = 0; i < vals.length; i++) {
    if (vals[i]! > 0) idxMax = i;
    if (vals[i]! > valMax) valMax = vals[i]!;
  }
  if (idxMax < 0) return [];
  const narrow = idxMax <= 32;
  const lines = [
    `${" ".repeat(narrow ? 5 : 15)}${pad(type, narrow ? -19 : -29)} : count    distribution`,
  ];
  const stars = narrow ? 40 : 20;
  const width = narrow ? 10 : 20;
  for (let i = 0; i <= idxMax; i++) {
    let low = (1n << BigInt(i + 1)) >> 1n;
    const high = (1n << BigInt(i + 1)) - 1n;
    if (low === high) low -= 1n;
    const val = vals[i]!;
    const n = Math.floor((Math.min(val, valMax) * stars) / valMax);
    const bar = "*".repeat(n) + " ".repeat(stars - n) + (val > valMax ? "+" : "");
    lines.push(`${pad(low, width)} -> ${pad(high, -width)} : ${pad(val, -8)} |${bar}|`);
  }
  return lines;
}

/** Per-key log2 histograms read from a hash map (u32 keys), as runqlat/cpudist print them. */
export interface HistTool {
  /** the probe's histogram map */
  map: string;
  /** decode a value: its slots and the task name kept with it */
  decode: (value: Uint8Array) => { slots: ArrayLike<number>; comm: Uint8Array };
  /** the line before each histogram ("pid = 12 sh"), or undefined for one histogram */
  label?: (key: number, comm: string) => string;
  unit: string;
}

/** Print every histogram of the map, then empty it (one interval of the C tools). */
export function printHists(loaded: Loaded, h: HistTool, out: Out): void {
  const map = loaded.map(h.map);
  const keys: Uint8Array[] = [];
  for (const [k, v] of map) {
    keys.push(k.slice());
    const { slots, comm } = h.decode(v);
    const label = h.label?.(Buffer.from(k).readUInt32LE(0), cstr(comm));
    if (label !== undefined) {
      out("");
      out(label);
    }
    for (const l of log2Hist(slots, h.unit)) out(l);
  }
  for (const k of keys) map.delete(k);
}

/**
 * The C histogram tools' main loop: every `interval` seconds (or when `signal` aborts) an
 * empty line, the time with -T, the histograms; `times` intervals at most.
 */
export async function histLoop(
  loaded: Loaded,
  h: HistTool,
  o: { interval: number; times: number; timestamp: boolean },
  out: Out,
  signal: AbortSignal,
): Promise<void> {
  try {
    for (let n = 0; n < o.times; n++) {
      const stopped = await sleep(o.interval * 1000, signal);
      out("");
      if (o.timestamp) out(pad(clock(), -8));
      printHists(loaded, h, out);
      if (stopped) break;
    }
  } finally {
    loaded.close();
  }
}
