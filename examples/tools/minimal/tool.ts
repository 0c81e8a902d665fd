// libbpf-bootstrap's "minimal": the probe reports every write(2) of this process in the
// kernel's trace buffer; this prints a dot to stderr every second (each a write) until Ctrl-C.
//   node dist/examples/tools/minimal/tool.js
import { main, sleep, start, type Out } from "../common.js";

export async function run(
  argv: string[],
  out: Out,
  signal: AbortSignal,
  pid = process.pid,
): Promise<void> {
  if (argv.length > 0) throw new Error(`unknown option ${argv[0]}`);
  const loaded = await start("minimal", { globals: { my_pid: pid } });
  try {
    out(
      "Successfully started! Please run `sudo cat /sys/kernel/debug/tracing/trace_pipe` to see output of the BPF programs.",
    );
    while (!(await sleep(1000, signal))) process.stderr.write(".");
  } finally {
    loaded.close();
  }
}

main(import.meta, run);
