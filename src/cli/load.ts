// `tsbpf load FILE`: cargo-bpf's load — load every program, attach each by its section kind,
// print `Loaded: <program>, <KIND>`, then every event as `-- Event: <map> --` + hexdump (or
// JSON lines on stdout, with the `Loaded:` lines on stderr). SIGINT/SIGTERM/SIGHUP, or the
// death of the npm shell that started it (see below), detach everything and exit 0.
import { accessSync, constants, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { Loader, type Loaded } from "../load/loader.js";
import { PerfReader } from "../reader/perf.js";
import { hexdump } from "./hexdump.js";
import { reportError } from "./errors.js";
import type { LoadCliOptions } from "./main.js";
import { UsageError } from "./usage-error.js";

const toHex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/**
 * After a refusal for want of a capability: every capability this object needs and which of
 * them this process lacks, so the first fix is not followed by the next refusal.
 */
async function capabilitySummary(file: string, e: unknown): Promise<string | undefined> {
  const { Errno, SysError, objectCapabilityHint } = await import("../sys/errors.js");
  const { VerifierError } = await import("../load/verifier.js");
  const permission =
    (e instanceof SysError &&
      (e.errno === Errno.EPERM || (e.errno === Errno.EACCES && e.syscall !== "BPF_PROG_LOAD"))) ||
    (e instanceof VerifierError && /\bfor !root\b/.test(e.log));
  if (!permission) return undefined;
  try {
    const { parseObject } = await import("../obj/object.js");
    const { tracefsRoot } = await import("../sys/tracefs.js");
    const object = parseObject(readFileSync(file));
    let tracefs = true;
    try {
      accessSync(`${tracefsRoot()}/events`, constants.R_OK | constants.X_OK);
    } catch {
      tracefs = false;
    }
    const types = object.programs.flatMap((p) => (p.sectionInfo ? [p.sectionInfo.progType] : []));
    return objectCapabilityHint(types, tracefs);
  } catch {
    return undefined; // the error above says enough
  }
}

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
    ...(opts.usdt !== undefined && { usdt: opts.usdt }),
    ...(opts.tracepoint !== undefined && { tracepoint: opts.tracepoint }),
    ...(opts.direction !== undefined && { direction: opts.direction }),
    ...(opts.sampleFreq !== undefined && { perfEvent: { sampleFreq: opts.sampleFreq } }),
  });
  if (opts.cgroup !== undefined) loader = loader.cgroup(opts.cgroup);

  let loaded: Loaded;
  try {
    loaded = await loader.loadFile(file);
  } catch (e) {
    const code = await reportError(e);
    const all = await capabilitySummary(file, e);
    if (all) process.stderr.write(`  ${all}\n`);
    return code;
  }
  const write = (s: string) => process.stdout.write(s + "\n");
  const perfReaders = loaded.readers.filter((r): r is PerfReader => r instanceof PerfReader);
  for (const r of perfReaders)
    if (!r.lossExact)
      process.stderr.write(
        `note: this kernel (before Linux 6.0) does not count lost perf samples as they happen: drops on ${r.name} are reported only when a later sample on the same CPU fits in the ring, so the last drops of a run may never be reported\n`,
      );
  const reportedLost = new Map<string, number>();
  // With --json, stdout carries nothing but the JSON lines (`| jq` works); the human lines
  // go to stderr, as warnings and lost-event notes always do.
  const say = opts.json ? (s: string) => process.stderr.write(s + "\n") : write;

  // Until SIGINT/SIGTERM/SIGHUP, or, when npm started this process (npx, npm run), until the
  // shell npm ran it with is gone. That is how a signal sent to `npx` shows here: npm passes it
  // on to its `sh -c`, and a shell that forks (dash, Debian's /bin/sh) dies of SIGTERM without
  // passing it on, so this process is reparented. (Started any other way, a parent that exits
  // — a shell left after `tsbpf load … & disown` — is no reason to stop.) The interval
  // doubles as what keeps Node's event loop alive (a pending promise and signal handlers alone
  // do not, and an object without event maps has no readers).
  const parent = process.env.npm_lifecycle_event !== undefined ? process.ppid : undefined;
  let stopping = false;
  let stop = (): void => {};
  const keepAlive = setInterval(() => {
    if (parent !== undefined && process.ppid !== parent) stop();
  }, 250);
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      if (stopping) return;
      stopping = true;
      loaded.close(); // detaches everything and ends the event iteration below
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    process.on("SIGHUP", stop);
  });
  // Only now, with the handlers in place: whoever reads `Loaded:` may interrupt at once (until
  // process.on, Node's own SIGINT handler would end the process by the signal, not exit 0).
  for (const { program } of loaded.links) say(`Loaded: ${program.name}, ${program.kindLabel}`);
  const { observe } = await import("./load-observe.js");
  const observer = await observe(loaded, opts, write);
  try {
    for await (const batch of loaded.events) {
      if (batch.lost > 0) {
        reportedLost.set(batch.map, (reportedLost.get(batch.map) ?? 0) + batch.lost);
        process.stderr.write(
          `-- Lost: ${batch.lost} events on ${batch.map}${batch.cpu !== undefined ? ` (cpu ${batch.cpu})` : ""} --\n`,
        );
      }
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
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    process.off("SIGHUP", stop);
    loaded.close();
    observer.finish();
  }
  // close() reads the kernel's final drop counts (Linux ≥ 6.0): say what no batch reported.
  for (const r of perfReaders) {
    const late = r.totalLost - (reportedLost.get(r.name) ?? 0);
    if (late > 0)
      process.stderr.write(`-- Lost: ${late} events on ${r.name} (counted at exit) --\n`);
  }
  return 0;
}
