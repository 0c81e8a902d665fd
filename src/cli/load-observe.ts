// What `tsbpf load` shows besides events: `--interval N` prints every counter and histogram map
// of the object every N seconds and once more at exit (decoded with the object's BTF as the
// kernel holds it); `--trace` streams bpf_trace_printk (tracePrintk) lines as they come.
import type { Loaded } from "../load/loader.js";

export interface ObserveOptions {
  interval?: number;
  trace?: boolean;
  top?: number;
  json?: boolean;
  logLevel?: "off" | "error" | "warn" | "info" | "debug";
}

export interface Observer {
  /** Prints the maps one last time (at exit) and stops everything. */
  finish(): void;
}

export async function observe(
  loaded: Loaded,
  opts: ObserveOptions,
  write: (s: string) => void,
): Promise<Observer> {
  const stops: (() => void)[] = [];
  let printMaps = (_final: boolean): void => {};
  if (opts.interval !== undefined) {
    const { openMap } = await import("../inspect/system.js");
    const { aggregateShape, readAggregate, renderAggregate } =
      await import("../inspect/aggregate.js");
    const { btfValueJson } = await import("../obj/btf-value.js");
    const maps = [...loaded.maps.values()]
      .map((m) => openMap({ by: "id", id: m.id }))
      .filter((m) => {
        if (aggregateShape(m)) return true;
        m.close();
        return false;
      });
    stops.push(() => maps.forEach((m) => m.close()));
    if (maps.length === 0)
      process.stderr.write(
        "note: --interval: this object has no counter or histogram maps (an integer value, an integer array, or a struct with `slots`: see docs/inspect.md#aggregations)\n",
      );
    printMaps = (final) => {
      for (const m of maps) {
        const a = readAggregate(m);
        if (!a) continue;
        if (opts.json) write(btfValueJson({ ...a, ...(final && { final: true }) } as never));
        else
          write(
            `-- Map: ${a.map}${final ? " (at exit)" : ""} --\n` +
              renderAggregate(a, { ...(opts.top !== undefined && { top: opts.top }) }).join("\n"),
          );
      }
    };
    const timer = setInterval(() => printMaps(false), opts.interval * 1000);
    stops.push(() => clearInterval(timer));
  }
  if (opts.trace) {
    const { TracePrintkPipe } = await import("../sys/trace-pipe.js");
    const pipe = new TracePrintkPipe((line) =>
      write(opts.json ? JSON.stringify({ trace: line }) : `-- Trace: ${line}`),
    );
    stops.push(() => pipe.close());
  }
  let drainLogs = (): void => {};
  if (loaded.collection.object.logFormats) {
    // the probes' log.* lines, formatted with the object's .tsbpf.log formats
    const { logLineText } = await import("../obj/log-section.js");
    if (opts.logLevel !== undefined) loaded.setLogLevel(opts.logLevel);
    const logs = loaded.logs();
    void (async () => {
      try {
        for await (const l of logs) write(opts.json ? JSON.stringify({ log: l }) : logLineText(l));
      } catch (e) {
        process.stderr.write(`error: reading the probe's logs: ${(e as Error).message}\n`);
      }
    })();
    // at exit the lines still in the ring come first, then the maps' last state
    drainLogs = () => {
      for (const l of logs.read()) write(opts.json ? JSON.stringify({ log: l }) : logLineText(l));
      const lost = loaded.logDrops;
      if (lost > 0n)
        process.stderr.write(`-- Lost: ${lost} log records (the ring buffer was full) --\n`);
    };
  } else if (opts.logLevel !== undefined)
    process.stderr.write("note: --log-level: this object has no log calls\n");
  let done = false;
  return {
    finish() {
      if (done) return;
      done = true;
      try {
        drainLogs();
        printMaps(true);
      } finally {
        for (const s of stops.reverse()) s();
      }
    },
  };
}
