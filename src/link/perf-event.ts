// `perf_event` programs: sampling. One perf event per CPU (all tasks on that CPU, or one
// process), each running the program on every sample — a bpf_link (≥ 5.15) or
// PERF_EVENT_IOC_SET_BPF, as perf-link.ts does — closed together as one Link.
import { ProgType, nameOf } from "../obj/consts.js";
import { onlineCpus } from "../sys/cpus.js";
import { PerfAttrFlags, perfEventOpen } from "../sys/perf-event.js";
import { AttachError } from "./errors.js";
import { CallbackLink, progLabel, type AttachableProgram, type Link } from "./link.js";
import { perfEventLink } from "./perf-link.js";

/** perf_event_attr.type values. */
export const PerfType = { HARDWARE: 0, SOFTWARE: 1, TRACEPOINT: 2, HW_CACHE: 3, RAW: 4 } as const;
/** Software event configs (PERF_TYPE_SOFTWARE). */
export const PerfSoftware = {
  CPU_CLOCK: 0,
  TASK_CLOCK: 1,
  PAGE_FAULTS: 2,
  CONTEXT_SWITCHES: 3,
} as const;
/** Hardware event configs (PERF_TYPE_HARDWARE). */
export const PerfHardware = { CPU_CYCLES: 0, INSTRUCTIONS: 1, CACHE_MISSES: 3 } as const;

export interface PerfEventOptions {
  /** PerfType (default SOFTWARE) */
  type?: number;
  /** the event within the type (default PerfSoftware.CPU_CLOCK) */
  config?: number | bigint;
  /** a sample every this many events (for CPU_CLOCK: nanoseconds) … */
  samplePeriod?: number | bigint;
  /** … or this many samples per second (default 99 when neither is given) */
  sampleFreq?: number;
  /** CPUs to sample on (default every online CPU) */
  cpus?: readonly number[];
  /** only this process (default every task on each CPU) */
  pid?: number;
}

/** Attach a PERF_EVENT program to a sampling event on each CPU. */
export function attachPerfEvent(prog: AttachableProgram, opts: PerfEventOptions = {}): Link {
  if (prog.type !== ProgType.PERF_EVENT)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not PERF_EVENT`,
    );
  if (opts.samplePeriod !== undefined && opts.sampleFreq !== undefined)
    throw new AttachError("perf event: give samplePeriod or sampleFreq, not both");
  const freq = opts.samplePeriod === undefined;
  const period = opts.samplePeriod ?? opts.sampleFreq ?? 99;
  const type = opts.type ?? PerfType.SOFTWARE;
  const config = opts.config ?? PerfSoftware.CPU_CLOCK;
  const cpus = opts.cpus ?? onlineCpus();
  const what = `perf_event ${prog.name} (type ${type} config ${config}, ${freq ? `${period} Hz` : `every ${period}`})`;
  const links: Link[] = [];
  try {
    for (const cpu of cpus) {
      const event = perfEventOpen(
        { type, config, samplePeriod: period, ...(freq && { flags: PerfAttrFlags.FREQ }) },
        opts.pid ?? -1,
        cpu,
        `${what} on CPU ${cpu}`,
      );
      links.push(perfEventLink("perf_event", `${what} on CPU ${cpu}`, prog, event));
    }
  } catch (e) {
    for (const l of links) l.close();
    throw e;
  }
  return new CallbackLink("perf_event", `${what} on CPUs ${cpus.join(",")}`, () => {
    for (const l of links) l.close();
  });
}
