// syncsnoop: trace sync-family syscalls, the columns of bcc's libbpf-tools syncsnoop:
//   TIME(s)  COMM  CALL
//   node dist/examples/tools/syncsnoop/tool.js
// Programs whose tracepoint this kernel lacks (arm_sync_file_range on x86) are not loaded.
import { existsSync } from "node:fs";
import { Sync, SYS_NAMES } from "./shared.js";
import { cstr, main, pad, start, stream, type Out } from "../common.js";

const OPTIONAL = ["sync_file_range", "sync_file_range2", "arm_sync_file_range"];

function tracepointExists(category: string, name: string): boolean {
  return ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"].some((d) =>
    existsSync(`${d}/events/${category}/${name}`),
  );
}

/** The C tool's line: the time as a C float (single precision) in seconds. */
export function format(e: Sync): string {
  const secs = Math.fround(Math.fround(Number(e.ts_us)) / 1000000);
  return `${pad(secs.toFixed(9), -18)} ${pad(cstr(e.comm), -16)} ${pad(SYS_NAMES[e.sys] ?? "N/A", -16)}`;
}

export async function run(argv: string[], out: Out, signal: AbortSignal): Promise<void> {
  if (argv.length > 0) throw new Error(`unknown option ${argv[0]}`);
  const loaded = await start("syncsnoop", {
    skip: OPTIONAL.filter((p) => !tracepointExists("syscalls", `sys_enter_${p}`)),
  });
  out(`${pad("TIME(s)", -18)} ${pad("COMM", -16)} CALL`);
  await stream(loaded, signal, (raw) => out(format(Sync.decode(raw))));
}

main(import.meta, run);
