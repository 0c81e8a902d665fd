// Object-level declarations: the license (program()), global variables and load-time
// constants. Read by the top-level scan, src/compiler/module/scan.ts (license, .data/.bss/.rodata
// layout); `.value` reads and writes are lowered in src/compiler/lower/ (lowerer.ts member
// access, intrinsics.ts atomicAdd).
import type { Infer, Type } from "../types/type.js";
import { kernelOnly, unused } from "./kernel-only.js";

export interface ProgramOptions {
  /** License string; GPL-only helpers (perf output, probe reads…) need a GPL-compatible one. */
  license: string;
  /** Kernel version word (`version` section); 0xfffffffe means "any" as in RedBPF. */
  version?: number;
}

/** Declares the object's license and version. Call once at the top level of the probe. */
export function program(options: ProgramOptions): void {
  void options;
  kernelOnly();
}

/** A global variable of the object; read and assign `.value` (or `atomicAdd(g, "value", n)`). */
export interface Global<T> {
  value: T;
}

/**
 * A global variable: `.bss` (zeroed), or `.data` when `initial` is given. User space reads and
 * writes it through the loader's globals (libbpf: `<obj>.bss` / `<obj>.data` maps).
 */
export function global<L extends Type>(
  name: string,
  type: L,
  initial?: Infer<L>,
): Global<Infer<L>> {
  unused(name, type, initial);
  return kernelOnly();
}

/**
 * A load-time constant (`const volatile` in `.rodata`): user space may set it before loading
 * (Collection `globals` option); the verifier then knows its value and prunes dead branches.
 */
export function config<L extends Type>(
  name: string,
  type: L,
  value: Infer<L>,
): { readonly value: Infer<L> } {
  unused(name, type, value);
  return kernelOnly();
}
