// Raw tracepoints (`raw_tp/<name>`, RAW_TRACEPOINT programs): BPF_RAW_TRACEPOINT_OPEN by name
// returns an fd that is the link (a bpf_link of type RAW_TRACEPOINT since 5.8).

import { ProgType, nameOf } from "../obj/consts.js";
import { rawTracepointOpen } from "../sys/bpf.js";
import { Errno, SysError } from "../sys/errors.js";
import { AttachError } from "./errors.js";
import { FdLink, progLabel, type AttachableProgram, type Link } from "./link.js";

/** Attach a RAW_TRACEPOINT (or RAW_TRACEPOINT_WRITABLE) program to raw tracepoint `name` ("sys_enter"). */
export function attachRawTracepoint(prog: AttachableProgram, name: string): Link {
  if (prog.type !== ProgType.RAW_TRACEPOINT && prog.type !== ProgType.RAW_TRACEPOINT_WRITABLE)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not RAW_TRACEPOINT`,
    );
  if (name === "" || name.includes("/"))
    throw new AttachError(
      `raw tracepoint name "${name}" must be a bare event name such as sys_enter (no category)`,
    );
  try {
    const fd = rawTracepointOpen(name, prog.fd);
    return new FdLink("raw_tracepoint", `raw_tracepoint ${prog.name} on ${name}`, fd);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ENOENT)
      throw new AttachError(
        `no raw tracepoint ${name} on this kernel (raw tracepoints are the tracepoint names without category, see /sys/kernel/tracing/available_events)`,
        { cause: e },
      );
    throw e;
  }
}
