// Tracepoints (`tracepoint/<category>/<name>` sections, TRACEPOINT programs): a perf event on
// the tracepoint's id from tracefs, then a perf_event link.

import { ProgType, nameOf } from "../obj/consts.js";
import { Errno, SysError } from "../sys/errors.js";
import { openTracepoint } from "../sys/perf-event.js";
import { TracefsError, tracefsRoot } from "../sys/tracefs.js";
import { AttachError } from "./errors.js";
import { progLabel, type AttachableProgram, type Link } from "./link.js";
import { perfEventLink } from "./perf-link.js";

/** Split "syscalls/sys_enter_openat" (or "syscalls:sys_enter_openat") into its two parts. */
export function parseTracepointName(target: string): { category: string; name: string } {
  const m = /^([^/:]+)[/:]([^/:]+)$/.exec(target);
  if (!m)
    throw new AttachError(
      `tracepoint "${target}" must be <category>/<name>, e.g. syscalls/sys_enter_openat`,
    );
  return { category: m[1]!, name: m[2]! };
}

export interface TracepointOptions {
  /** bpf_get_attach_cookie() value (bpf_link only) */
  cookie?: bigint | number;
}

/**
 * Attach a TRACEPOINT program to `category/name` (one string "syscalls/sys_enter_openat", or
 * two). Mounts tracefs when it is missing and we are root.
 */
export function attachTracepoint(
  prog: AttachableProgram,
  category: string,
  name?: string,
  opts: TracepointOptions = {},
): Link {
  const tp = name === undefined ? parseTracepointName(category) : { category, name };
  const label = `${tp.category}/${tp.name}`;
  if (prog.type !== ProgType.TRACEPOINT)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not TRACEPOINT; it cannot attach to tracepoint ${label}` +
        (prog.type === ProgType.RAW_TRACEPOINT ? " (use attachRawTracepoint)" : ""),
    );
  let event;
  try {
    event = openTracepoint(tp.category, tp.name);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT) {
      let dir = "/sys/kernel/tracing/events";
      try {
        dir = `${tracefsRoot()}/events`;
      } catch {
        // keep the default in the message
      }
      throw new AttachError(`no tracepoint ${label} (see ${dir})`, { cause: e });
    }
    if (e instanceof TracefsError) throw new AttachError(e.message, { cause: e });
    throw e;
  }
  return perfEventLink(
    "tracepoint",
    `tracepoint ${prog.name} on ${label}`,
    prog,
    event,
    opts.cookie,
  );
}
