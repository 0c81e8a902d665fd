// fentry / fexit / fmod_ret (TRACING programs) and BPF LSM hooks (LSM programs). Like tp_btf,
// the target is fixed at load time (expected_attach_type + attach_btf_id of the kernel
// function or hook); attaching is nameless: BPF_RAW_TRACEPOINT_OPEN(NULL) (5.5+), or
// BPF_LINK_CREATE with the attach type when a cookie is wanted (5.19+).

import { AttachType, ProgType, nameOf } from "../obj/consts.js";
import { linkCreate, rawTracepointOpen } from "../sys/bpf.js";
import { Errno, SysError } from "../sys/errors.js";
import { AttachError } from "./errors.js";
import { FdLink, progLabel, type AttachableProgram, type Link } from "./link.js";

export type TracingKind = "fentry" | "fexit" | "fmod_ret" | "lsm";

const ATTACH: Record<TracingKind, number> = {
  fentry: AttachType.TRACE_FENTRY,
  fexit: AttachType.TRACE_FEXIT,
  fmod_ret: AttachType.MODIFY_RETURN,
  lsm: AttachType.LSM_MAC,
};

export interface TracingOptions {
  /** what the program was loaded for; labels the link and picks LINK_CREATE's attach type */
  kind?: TracingKind;
  /** the kernel function or hook (labels the link only; the target was fixed at load time) */
  target?: string;
  /** bpf_get_attach_cookie() value (needs kind; kernel 5.19+) */
  cookie?: bigint | number;
}

/** Attach a TRACING (fentry/fexit/fmod_ret) or LSM program loaded with its attach_btf_id. */
export function attachTracing(prog: AttachableProgram, opts: TracingOptions = {}): Link {
  if (prog.type !== ProgType.TRACING && prog.type !== ProgType.LSM)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not TRACING or LSM`,
    );
  const kind = opts.kind ?? (prog.type === ProgType.LSM ? "lsm" : "fentry");
  const desc = `${kind} ${prog.name}${opts.target ? ` on ${opts.target}` : ""}`;
  try {
    if (opts.cookie !== undefined) {
      const fd = linkCreate({
        progFd: prog.fd,
        target: 0,
        attachType: ATTACH[kind],
        tracingCookie: opts.cookie,
      });
      return new FdLink(kind, desc, fd);
    }
    return new FdLink(kind, desc, rawTracepointOpen(null, prog.fd));
  } catch (e) {
    if (e instanceof SysError && (e.errno === Errno.ENOTSUPP || e.errno === Errno.EOPNOTSUPP))
      throw new AttachError(
        `cannot attach ${desc}: this kernel has no BPF trampoline for it (needs CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS on x86-64, arm64 since 6.0)`,
        { cause: e },
      );
    throw e;
  }
}
