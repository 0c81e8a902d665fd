// GPL-only helpers: the kernel refuses to load a program that calls one of them unless its
// license string is GPL-compatible ("cannot call GPL-restricted function from non-GPL compatible
// program"). Checked here so the error points at the call and says what to change.
import { Code, CompileError } from "../errors.js";
import type { Func } from "../ir/ir.js";

/** Helper ids whose `bpf_func_proto` has `.gpl_only = true` (kernel/trace/bpf_trace.c, net/core/filter.c, kernel/bpf/stackmap.c). */
export const GPL_ONLY_HELPERS: ReadonlyMap<number, string> = new Map([
  [4, "bpf_probe_read"],
  [6, "bpf_trace_printk (tracePrintk)"],
  [25, "bpf_perf_event_output (PerfMap.insert / output)"],
  [27, "bpf_get_stackid (getStackId)"],
  [35, "bpf_get_current_task"],
  [36, "bpf_probe_write_user"],
  [45, "bpf_probe_read_str"],
  [58, "bpf_override_return"],
  [67, "bpf_get_stack"],
  [112, "bpf_probe_read_user (probeReadUser)"],
  [113, "bpf_probe_read_kernel (probeReadKernel)"],
  [114, "bpf_probe_read_user_str (probeReadUserStr)"],
  [115, "bpf_probe_read_kernel_str (probeReadKernelStr)"],
  [158, "bpf_get_current_task_btf"],
  [177, "bpf_trace_vprintk"],
]);

/** The license strings the kernel treats as GPL-compatible (include/linux/license.h). */
const GPL_COMPATIBLE = new Set([
  "GPL",
  "GPL v2",
  "GPL and additional rights",
  "Dual BSD/GPL",
  "Dual MIT/GPL",
  "Dual MPL/GPL",
]);

export const isGplCompatible = (license: string): boolean => GPL_COMPATIBLE.has(license);

/** Throws at the first call of a GPL-only helper when `license` is not GPL-compatible. */
export function checkLicense(
  func: Func,
  license: string,
  fallback: { file: string; line: number; col: number },
): void {
  if (isGplCompatible(license)) return;
  for (const b of func.blocks)
    for (const i of b.instrs) {
      if (i.op !== "call" || i.fn !== undefined) continue;
      const name = GPL_ONLY_HELPERS.get(i.helper);
      if (name === undefined) continue;
      const at = i.loc ?? fallback;
      throw new CompileError(
        Code.Module,
        `${name} is a GPL-only kernel helper and the license is "${license}": the kernel refuses to load it. Declare a GPL-compatible license (program({ license: "GPL" }), or "Dual MIT/GPL", "Dual BSD/GPL"), or do not call it`,
        at.file,
        at.line,
        at.col,
      );
    }
}
