// Helpers for tests that need the real kernel.
// Rule (cilium/ebpf's): a kernel test that cannot run is skipped on a developer machine
// but FAILS under CI=true, so a missing capability never hides behind a green run.
import type { TestContext } from "node:test";
import { existsSync } from "node:fs";

export const inCI = process.env.CI === "true";

/** Why kernel tests cannot run here, or undefined when they can. */
export function kernelUnavailable(): string | undefined {
  if (process.platform !== "linux") return "not Linux";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root";
  if (!existsSync("/sys/kernel/btf/vmlinux")) return "kernel BTF missing";
  return undefined;
}

/**
 * Call at the start of a kernel test. Returns false (test skipped) when the kernel cannot be
 * used here; under CI=true it throws instead so the run fails.
 */
export function needsKernel(t: TestContext, extraReason?: string): boolean {
  const why = extraReason ?? kernelUnavailable();
  if (why === undefined) return true;
  if (inCI) throw new Error(`kernel test cannot run under CI: ${why}`);
  t.skip(why);
  return false;
}
