// Kernel probes (`kprobe/<function>`, KPROBE programs): the kprobe PMU where present (4.17+),
// else a probe event created through tracefs kprobe_events. A kernel built without
// CONFIG_KPROBES has neither, and says so.

import { existsSync, writeFileSync } from "node:fs";
import { ProgType, nameOf } from "../obj/consts.js";
import { Errno, SysError } from "../sys/errors.js";
import { openKprobe, openTracepoint } from "../sys/perf-event.js";
import { tracefsRoot } from "../sys/tracefs.js";
import { AttachError } from "./errors.js";
import { CallbackLink, progLabel, type AttachableProgram, type Link } from "./link.js";
import { perfEventLink } from "./perf-link.js";

export interface KprobeOptions {
  /** kernel function, e.g. "do_sys_openat2" */
  symbol: string;
  /** bytes past the function's start */
  offset?: number;
  retprobe?: boolean;
  /** bpf_get_attach_cookie() value (bpf_link only) */
  cookie?: bigint | number;
}

const KPROBE_PMU = "/sys/bus/event_source/devices/kprobe";

/** Why kprobes cannot work here, or undefined when the PMU or kprobe_events exists. */
export function kprobesUnavailable(): string | undefined {
  if (existsSync(KPROBE_PMU)) return undefined;
  try {
    if (existsSync(`${tracefsRoot()}/kprobe_events`)) return undefined;
  } catch {
    // no tracefs: only the PMU could have helped
  }
  return "kernel lacks kprobes (CONFIG_KPROBES): neither the kprobe PMU (/sys/bus/event_source/devices/kprobe) nor tracefs kprobe_events exists; use tracepoints or fentry on a kernel that has them";
}

let legacySeq = 0;

/** Attach a KPROBE program to a kernel function's entry (or return with `retprobe`). */
export function attachKprobe(prog: AttachableProgram, opts: KprobeOptions): Link {
  const kind = opts.retprobe ? "kretprobe" : "kprobe";
  if (prog.type !== ProgType.KPROBE)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program; ${kind}s run KPROBE programs`,
    );
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(opts.symbol))
    throw new AttachError(`invalid kernel function name "${opts.symbol}"`);
  const why = kprobesUnavailable();
  if (why !== undefined) throw new AttachError(why);
  const where = `${opts.symbol}${opts.offset ? `+0x${opts.offset.toString(16)}` : ""}`;
  const desc = `${kind} ${prog.name} on ${where}`;
  const missing = (e: unknown) =>
    new AttachError(
      `no kernel function ${opts.symbol} to ${kind} (not in /proc/kallsyms, inlined, or on the kprobe blacklist /sys/kernel/debug/kprobes/blacklist)`,
      { cause: e },
    );
  if (existsSync(KPROBE_PMU)) {
    let event;
    try {
      event = openKprobe({
        symbol: opts.symbol,
        offset: opts.offset ?? 0,
        retprobe: !!opts.retprobe,
      });
    } catch (e) {
      if (e instanceof SysError && (e.errno === Errno.ENOENT || e.errno === Errno.EINVAL))
        throw missing(e);
      throw e;
    }
    return perfEventLink(kind, desc, prog, event, opts.cookie);
  }
  // Legacy: define a probe event in tracefs, attach to it as a tracepoint, remove it on close.
  const root = tracefsRoot();
  const event = `tsbpf_${process.pid}_${legacySeq++}`;
  const group = opts.retprobe ? "kretprobes" : "kprobes";
  const def = `${opts.retprobe ? "r" : "p"}:${group}/${event} ${where}`;
  try {
    writeFileSync(`${root}/kprobe_events`, def + "\n", { flag: "a" });
  } catch (e) {
    throw missing(e);
  }
  const remove = () =>
    writeFileSync(`${root}/kprobe_events`, `-:${group}/${event}\n`, { flag: "a" });
  let inner: Link;
  try {
    inner = perfEventLink(
      kind,
      `${desc} (tracefs ${group}/${event})`,
      prog,
      openTracepoint(group, event),
      opts.cookie,
    );
  } catch (e) {
    remove();
    throw e;
  }
  return new CallbackLink(kind, inner.description, () => {
    try {
      inner.close();
    } finally {
      remove();
    }
  });
}
