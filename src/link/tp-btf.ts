// BTF-typed raw tracepoints (`tp_btf/<event>`, TRACING programs). What the event is gets fixed
// at load time, not here. The loader must pass to BPF_PROG_LOAD:
//   prog type           BPF_PROG_TYPE_TRACING
//   expected_attach_type BPF_TRACE_RAW_TP
//   attach_btf_id       the vmlinux BTF id of the typedef `btf_trace_<event>` (see tpBtfTargetId)
//   attach_btf_obj_fd   the module's BTF fd when the event lives in a module (0 for vmlinux)
// Attaching then needs no name: BPF_RAW_TRACEPOINT_OPEN with a NULL name returns the link.

import type { Btf } from "../obj/btf.js";
import { AttachType, ProgType, nameOf } from "../obj/consts.js";
import { rawTracepointOpen } from "../sys/bpf.js";
import { AttachError } from "./errors.js";
import { FdLink, progLabel, type AttachableProgram, type Link } from "./link.js";

/** The BTF typedef naming a raw tracepoint's prototype: "btf_trace_sys_enter". */
export const tpBtfTypeName = (event: string): string => `btf_trace_${event}`;

/** The attach_btf_id for tp_btf/<event> in kernel BTF (parse /sys/kernel/btf/vmlinux). */
export function tpBtfTargetId(vmlinux: Btf, event: string): number {
  const hit = vmlinux.findByName("typedef", tpBtfTypeName(event));
  if (!hit)
    throw new AttachError(
      `no BTF-typed tracepoint ${event} in kernel BTF (no typedef ${tpBtfTypeName(event)}); raw tracepoint names are listed in /sys/kernel/tracing/available_events`,
    );
  return hit.id;
}

/** Attach a tp_btf program (loaded with attach_btf_id, see above). `event` only labels the link. */
export function attachTpBtf(prog: AttachableProgram, event?: string): Link {
  if (prog.type !== ProgType.TRACING)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not TRACING (tp_btf)`,
    );
  const fd = rawTracepointOpen(null, prog.fd);
  return new FdLink("tp_btf", `tp_btf ${prog.name}${event ? ` on ${event}` : ""}`, fd);
}

/** expected_attach_type tp_btf programs are loaded with. */
export const TP_BTF_ATTACH_TYPE = AttachType.TRACE_RAW_TP;
