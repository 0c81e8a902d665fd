// libbpf-bootstrap's "bootstrap": process execs and exits, its columns:
//   TIME  EVENT  COMM  PID  PPID  FILENAME/EXIT CODE
//   node dist/examples/tools/bootstrap/tool.js [-d MIN_DURATION_MS]
import { Event } from "./shared.js";
import { clock, cstr, intArg, main, pad, start, stream, type Out } from "../common.js";

export function parse(argv: string[]): { minDurationMs: number } {
  let minDurationMs = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-d" || a === "--duration") {
      minDurationMs = intArg(a, argv[++i]);
      if (minDurationMs <= 0) throw new Error(`Invalid duration: ${argv[i]}`);
    } else throw new Error(`unknown option ${a}`);
  }
  return { minDurationMs };
}

export function format(e: Event): string {
  const head = `${pad(clock(), -8)} ${pad(e.exit_event ? "EXIT" : "EXEC", -5)} ${pad(cstr(e.comm), -16)} ${pad(e.pid, -7)} ${pad(e.ppid, -7)}`;
  if (!e.exit_event) return `${head} ${cstr(e.filename)}`;
  return `${head} [${e.exit_code}]${e.duration_ns ? ` (${e.duration_ns / 1000000n}ms)` : ""}`;
}

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  const o = parse(argv);
  const loaded = await start("bootstrap", {
    globals: { min_duration_ns: BigInt(o.minDurationMs) * 1000000n },
  });
  out(
    `${pad("TIME", -8)} ${pad("EVENT", -5)} ${pad("COMM", -16)} ${pad("PID", -7)} ${pad("PPID", -7)} FILENAME/EXIT CODE`,
  );
  await stream(loaded, signal, (raw) => out(format(Event.decode(raw))));
}

main(import.meta, run);
