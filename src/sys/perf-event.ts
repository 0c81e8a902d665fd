// perf_event_open(2) for what eBPF attaches to: tracepoints, uprobe/kprobe PMU events and the
// BPF_OUTPUT software event behind perf event arrays; plus the perf ioctls.
import { readFileSync } from "node:fs";
import { Attr, cString } from "./attr.js";
import { Errno, SysError, check } from "./errors.js";
import { FD } from "./fd.js";
import { native } from "./native.js";
import { tracepointId } from "./tracefs.js";

/** PERF_ATTR_SIZE_VER5: understood by every kernel tsbpf supports. */
export const PERF_ATTR_SIZE = 112;

export const PerfType = {
  HARDWARE: 0,
  SOFTWARE: 1,
  TRACEPOINT: 2,
  HW_CACHE: 3,
  RAW: 4,
  BREAKPOINT: 5,
} as const;
export const PERF_COUNT_SW_BPF_OUTPUT = 10;
export const PERF_SAMPLE_RAW = 1 << 10;
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;
/** read_format bit (Linux ≥ 6.0): read() also returns the event's count of lost samples. */
export const PERF_FORMAT_LOST = 1 << 4;

/** PERF_EVENT_IOC_* request numbers (x86/arm64 _IO/_IOW encoding). */
export const PerfIoctl = {
  ENABLE: 0x2400,
  DISABLE: 0x2401,
  SET_BPF: 0x40042408,
  PAUSE_OUTPUT: 0x40042409,
} as const;

/** Bits of perf_event_attr's flag word at offset 40. */
export const PerfAttrFlags = {
  DISABLED: 1n << 0n,
  INHERIT: 1n << 1n,
  EXCLUDE_USER: 1n << 4n,
  EXCLUDE_KERNEL: 1n << 5n,
  /** samplePeriod is a frequency (samples per second) */
  FREQ: 1n << 10n,
  WATERMARK: 1n << 14n,
} as const;

export interface PerfEventAttr {
  type: number;
  config?: bigint | number;
  samplePeriod?: bigint | number;
  sampleType?: bigint | number;
  /** PERF_FORMAT_* bits: what read() on the event returns */
  readFormat?: bigint | number;
  /** PerfAttrFlags bits */
  flags?: bigint;
  /** wakeup_events, or wakeup_watermark (bytes) when flags has WATERMARK */
  wakeup?: number;
  /** kprobe_func / uprobe_path pointer, or bp_addr */
  config1?: bigint | number;
  /** probe_offset / kprobe address */
  config2?: bigint | number;
}

export function encodePerfEventAttr(p: PerfEventAttr): Attr {
  return new Attr(PERF_ATTR_SIZE)
    .u32(0, p.type)
    .u32(4, PERF_ATTR_SIZE)
    .u64(8, p.config ?? 0)
    .u64(16, p.samplePeriod ?? 0)
    .u64(24, p.sampleType ?? 0)
    .u64(32, p.readFormat ?? 0)
    .u64(40, p.flags ?? 0n)
    .u32(48, p.wakeup ?? 0)
    .u64(56, p.config1 ?? 0)
    .u64(64, p.config2 ?? 0);
}

/** perf_event_open(attr, pid, cpu, -1, CLOEXEC). pid -1 with a cpu: every task on that CPU. */
export function perfEventOpen(p: PerfEventAttr, pid: number, cpu: number, subject?: string): FD {
  const attr = encodePerfEventAttr(p);
  return perfEventOpenRaw(attr.bytes, pid, cpu, subject);
}

function perfEventOpenRaw(attr: Uint8Array, pid: number, cpu: number, subject?: string): FD {
  const r = native().perfEventOpen(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  return new FD(check("perf_event_open", r, subject === undefined ? {} : { subject }));
}

/** A tracepoint event (all tasks, CPU 0 — tracepoint BPF runs on every CPU regardless). */
export function openTracepoint(category: string, name: string): FD {
  const id = tracepointId(category, name);
  return perfEventOpen(
    {
      type: PerfType.TRACEPOINT,
      config: id,
      samplePeriod: 1,
      sampleType: PERF_SAMPLE_RAW,
      wakeup: 1,
    },
    -1,
    0,
    `tracepoint ${category}/${name}`,
  );
}

/** The BPF_OUTPUT software event on one CPU, for a perf event array slot. */
export function openBpfOutput(cpu: number, wakeupEvents = 1, readFormat = 0): FD {
  return perfEventOpen(
    {
      type: PerfType.SOFTWARE,
      config: PERF_COUNT_SW_BPF_OUTPUT,
      samplePeriod: 1,
      sampleType: PERF_SAMPLE_RAW,
      readFormat,
      wakeup: wakeupEvents,
    },
    -1,
    cpu,
    `BPF_OUTPUT on CPU ${cpu}`,
  );
}

/**
 * A BPF_OUTPUT event whose read() reports its lost samples (PERF_FORMAT_LOST, Linux ≥ 6.0):
 * `countsLost` false when the kernel refused the read format and the event has none.
 */
export function openBpfOutputCountingLost(
  cpu: number,
  wakeupEvents = 1,
): { event: FD; countsLost: boolean } {
  try {
    return { event: openBpfOutput(cpu, wakeupEvents, PERF_FORMAT_LOST), countsLost: true };
  } catch (e) {
    // Before 6.0 the unknown read_format bit is EINVAL.
    if (!(e instanceof SysError) || e.errno !== Errno.EINVAL) throw e;
    return { event: openBpfOutput(cpu, wakeupEvents), countsLost: false };
  }
}

/**
 * Samples the kernel failed to write into the event's ring since it was opened: every drop,
 * whether or not a PERF_RECORD_LOST about it has reached the ring yet. The event must have
 * been opened with PERF_FORMAT_LOST (read() then gives u64 value, u64 lost).
 */
export function perfEventLost(fd: number): number {
  const buf = new BigUint64Array(2);
  const r = native().read(fd, buf);
  if (r < 0) throw new SysError("read(perf event)", -r);
  if (r !== 16)
    throw new SysError("read(perf event)", Errno.EIO, { hint: `read ${r} of 16 bytes` });
  return Number(buf[1]);
}

export interface ProbePmu {
  /** perf_event_attr.type of the dynamic PMU */
  type: number;
  /** config bit that makes a return probe */
  retprobeBit: number;
}

/** Reads /sys/bus/event_source/devices/<kind>/{type,format/retprobe}. */
export function probePmu(kind: "kprobe" | "uprobe"): ProbePmu {
  const dir = `/sys/bus/event_source/devices/${kind}`;
  let type: number;
  try {
    type = Number.parseInt(readFileSync(`${dir}/type`, "utf8").trim(), 10);
  } catch {
    throw new SysError("perf_event_open", 2, {
      subject: `${kind} PMU`,
      hint:
        kind === "kprobe"
          ? "this kernel has no kprobe PMU (CONFIG_KPROBES / CONFIG_KPROBE_EVENTS off)"
          : "this kernel has no uprobe PMU (CONFIG_UPROBE_EVENTS off)",
    });
  }
  let retprobeBit = 0;
  try {
    const m = /^config:(\d+)/.exec(readFileSync(`${dir}/format/retprobe`, "utf8").trim());
    if (m) retprobeBit = Number(m[1]);
  } catch {
    // Old kernels lack the format file; bit 0 is what they used.
  }
  return { type, retprobeBit };
}

export interface UprobeTarget {
  /** Absolute path of the binary or library. */
  path: string;
  /** File offset of the probed instruction. */
  offset: bigint | number;
  retprobe?: boolean;
  /** -1 for every process (then cpu 0), or a pid. */
  pid?: number;
  /** USDT semaphore offset (ref_ctr_offset, config bits 32..63). */
  refCtrOffset?: number;
}

export function openUprobe(t: UprobeTarget): FD {
  const pmu = probePmu("uprobe");
  const path = cString(t.path);
  let config = t.retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n;
  if (t.refCtrOffset) config |= BigInt(t.refCtrOffset) << 32n;
  const attr = encodePerfEventAttr({
    type: pmu.type,
    config,
    samplePeriod: 1,
    wakeup: 1,
    config1: native().addressOf(path),
    config2: t.offset,
  });
  const pid = t.pid ?? -1;
  const fd = perfEventOpenRaw(
    attr.bytes,
    pid,
    pid === -1 ? 0 : -1,
    `${t.retprobe ? "uretprobe" : "uprobe"} ${t.path}+${t.offset}`,
  );
  path.fill(0); // keeps `path` referenced until after the syscall
  return fd;
}

export interface KprobeTarget {
  /** Kernel symbol, or omit and give an address in `offset`. */
  symbol?: string;
  offset?: bigint | number;
  retprobe?: boolean;
}

export function openKprobe(t: KprobeTarget): FD {
  const pmu = probePmu("kprobe");
  const sym = t.symbol === undefined ? null : cString(t.symbol);
  const attr = encodePerfEventAttr({
    type: pmu.type,
    config: t.retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n,
    samplePeriod: 1,
    wakeup: 1,
    config1: sym ? native().addressOf(sym) : 0n,
    config2: t.offset ?? 0,
  });
  const fd = perfEventOpenRaw(
    attr.bytes,
    -1,
    0,
    `${t.retprobe ? "kretprobe" : "kprobe"} ${t.symbol ?? ""}+${t.offset ?? 0}`,
  );
  sym?.fill(0);
  return fd;
}

export function perfEventEnable(fd: number): void {
  check("ioctl(PERF_EVENT_IOC_ENABLE)", native().ioctl(fd, PerfIoctl.ENABLE, 0));
}

export function perfEventDisable(fd: number): void {
  check("ioctl(PERF_EVENT_IOC_DISABLE)", native().ioctl(fd, PerfIoctl.DISABLE, 0));
}

/** Legacy attach (pre-bpf_link kernels): run prog on this perf event. */
export function perfEventSetBpf(fd: number, progFd: number): void {
  check("ioctl(PERF_EVENT_IOC_SET_BPF)", native().ioctl(fd, PerfIoctl.SET_BPF, progFd));
}
