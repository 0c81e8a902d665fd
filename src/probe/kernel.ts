// Kernel structs in probes (declarations from `tsbpf btf gen`; docs/probe-language.md "Kernel
// structs"). Lowered by src/compiler/lower/kernel-types.ts.
import { kernelOnly } from "./kernel-only.js";

/**
 * An array field of a kernel struct: index it (`task.comm[0]`, `x.arr[i]`; a run-time index
 * outside the array reads 0), or copy it with `probeReadKernel(into, addressOf(x.f))`.
 */
export interface KernelArray<T> {
  readonly [index: number]: T;
  readonly __kernelArray: T;
}

/**
 * A kernel address as a pointer to the struct `T` (declared by `tsbpf btf gen`):
 * `const task = kernelPtr<task_struct>(ctx.arg(0))`. Fields read through it are CO-RE
 * relocated; a `tp_btf` argument is read directly, any other address with probe reads.
 */
export function kernelPtr<T>(address: bigint): T {
  void address;
  return kernelOnly();
}
/** The current task (`bpf_get_current_task_btf` in tp_btf, else `bpf_get_current_task`). */
export function currentTask<T>(): T {
  return kernelOnly();
}
/** Whether the running kernel's struct has this field (CO-RE field existence): `exists(t.f)`. */
export function exists(field: unknown): boolean {
  void field;
  return kernelOnly();
}
/** The address of a field of a kernel struct (its offset relocated), for probe reads. */
export function addressOf(field: unknown): bigint {
  void field;
  return kernelOnly();
}
/** The running kernel's version, `(major << 16) | (minor << 8) | patch` (LINUX_KERNEL_VERSION). */
export function kernelVersion(): number {
  return kernelOnly();
}
/** A bool/tristate kernel option: 0 (n or absent), 1 (y), 2 (m). `kconfig("CONFIG_BPF_JIT")` */
export function kconfig(option: string): number {
  void option;
  return kernelOnly();
}
/** A numeric kernel option (`CONFIG_HZ`), 0 when absent. */
export function kconfigValue(option: string): bigint {
  void option;
  return kernelOnly();
}
/**
 * The address of a tracepoint record's `__data_loc` field's data (a string such as
 * `filename`): `probeReadKernelStr(ev.name, dataLoc(ctx.fields.__data_loc_filename))`.
 */
export function dataLoc(loc: number): bigint {
  void loc;
  return kernelOnly();
}
