// `tsbpf load FILE`: cargo-bpf's load — load every program, attach each by its section kind,
// print `Loaded: <program>, <KIND>`, then every event as `-- Event: <map> --` + hexdump (or
// JSON lines). SIGINT/SIGTERM detach everything and exit 0.
import { stat } from "node:fs/promises";
import { Loader, type Loaded } from "../loader.js";
import { hexdump } from "./hexdump.js";
import { reportError, UsageError, type LoadCliOptions } from "./main.js";

const toHex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

export async function runLoad(file: string, opts: LoadCliOptions): Promise<number> {
  try {
    await stat(file);
  } catch {
    throw new UsageError(`no such file: ${file}`);
  }
  let loader = Loader.create().options({
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    ...(opts.btf !== undefined && { btfPath: opts.btf }),
    ...(opts.kconfig !== undefined && { kconfigPath: opts.kconfig }),
  });
  if (opts.interface !== undefined)
    loader = loader.xdp(opts.interface, opts.xdpMode ? { mode: opts.xdpMode } : {});
  const binary = opts.uprobePath ?? opts.binary;
  if (binary !== undefined)
    loader = loader.uprobe(binary, opts.pid !== undefined ? { pid: opts.pid } : {});
  loader = loader.attachDefaults({
    ...(opts.symbol !== undefined && { symbol: opts.symbol }),
    ...(opts.tracepoint !== undefined && { tracepoint: opts.tracepoint }),
    ...(opts.direction !== undefined && { direction: opts.direction }),
    ...(opts.sampleFreq !== undefined && { perfEvent: { sampleFreq: opts.sampleFreq } }),
  });
  if (opts.cgroup !== undefined) loader = loader.cgroup(opts.cgroup);

  let loaded: Loaded;
  try {
    loaded = await loader.loadFile(file);
  } catch (e) {
    return reportError(e);
  }
  const write = (s: string) => process.stdout.write(s + "\n");

  // Until SIGINT/SIGTERM: a pending promise and signal handlers alone do not keep Node's
  // event loop alive (an object without event maps has no readers), so a timer does.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      loaded.close(); // detaches everything and ends the event iteration below
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  // Only now: a signal sent by whoever waits for these lines finds the handlers installed.
  for (const { program } of loaded.links) write(`Loaded: ${program.name}, ${program.kindLabel}`);
  try {
    for await (const batch of loaded.events) {
      if (batch.lost > 0)
        process.stderr.write(
          `-- Lost: ${batch.lost} events on ${batch.map}${batch.cpu !== undefined ? ` (cpu ${batch.cpu})` : ""} --\n`,
        );
      for (const ev of batch.events) {
        if (opts.json)
          write(
            JSON.stringify({
              map: batch.map,
              ...(batch.cpu !== undefined && { cpu: batch.cpu }),
              size: ev.length,
              data: toHex(ev),
            }),
          );
        else write(`-- Event: ${batch.map} --\n${hexdump(ev)}`);
      }
    }
    // No perf/ring maps (or they ended): stay attached until interrupted.
    await stopped;
  } finally {
    clearInterval(keepAlive);
    process.removeAllListeners("SIGINT");
    process.removeAllListeners("SIGTERM");
    loaded.close();
  }
  return 0;
}
