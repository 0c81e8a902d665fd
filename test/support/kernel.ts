// Helpers for tests that need the real kernel.
// Rule (cilium/ebpf's): a kernel test that cannot run is skipped on a developer machine
// but FAILS under CI=true, so a missing capability never hides behind a green run.
//
// Kernel-feature-aware tests declare what they need: `needsKernel(t, { minKernel, feature })`.
// A kernel older than the minimum, or one whose configuration leaves the feature out, skips
// the test with the reason (under CI too: that kernel legitimately cannot do it). On a kernel
// that should have the feature the test runs, and a failure to load or attach FAILS it.
// TSBPF_REQUIRE_FEATURES=kprobes,fentry (set by the VM runner for kernels known to have them)
// turns those skips into failures, so a VM run can never prove a feature by skipping it.
import type { TestContext } from "node:test";
import { existsSync, openSync, closeSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";

export const inCI = process.env.CI === "true";

/** Why kernel tests cannot run here, or undefined when they can. */
export function kernelUnavailable(): string | undefined {
  if (process.platform !== "linux") return "not Linux";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root";
  if (!existsSync("/sys/kernel/btf/vmlinux")) return "kernel BTF missing";
  return undefined;
}

/** Kernel capabilities a test can declare; see FEATURES for what each needs. */
export type KernelFeature = "kprobes" | "fentry" | "ringbuf";

export interface KernelNeeds {
  /** lowest kernel release the test can pass on, "major.minor" ("5.8") */
  minKernel?: string;
  /** capabilities the kernel's configuration must include */
  feature?: KernelFeature | readonly KernelFeature[];
}

/** [major, minor, patch] of a release string such as "6.1.0-56-cloud-amd64" or "6.18.44-fc". */
export function parseKernelVersion(s: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(s);
  if (!m)
    throw new Error(`cannot read a kernel version from "${s}" (expected major.minor[.patch])`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** The running kernel's version. */
export function kernelVersion(): [number, number, number] {
  return parseKernelVersion(release());
}

/** a < b, comparing versions field by field. */
function older(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

let config: Map<string, string> | null | undefined;

/**
 * The running kernel's build configuration (CONFIG_* → "y" | "m" | value), from
 * /proc/config.gz or /boot/config-<release>; undefined when neither exists.
 */
export function kernelConfig(): ReadonlyMap<string, string> | undefined {
  if (config === undefined) {
    config = null;
    let text: string | undefined;
    try {
      text = gunzipSync(readFileSync("/proc/config.gz")).toString("utf8");
    } catch {
      try {
        text = readFileSync(`/boot/config-${release()}`, "utf8");
      } catch {
        // no configuration on record: features are judged by what the kernel exposes
      }
    }
    if (text !== undefined) {
      config = new Map();
      for (const line of text.split("\n")) {
        const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
        if (m) config.set(m[1]!, m[2]!);
      }
    }
  }
  return config ?? undefined;
}

/** What each feature needs: a minimum release, config options, and a runtime check. */
const FEATURES: Record<
  KernelFeature,
  { minKernel: string; config: readonly string[]; check?: () => string | undefined }
> = {
  // BPF programs on kprobes: 4.1; the kprobe PMU the library prefers: 4.17 (tracefs before).
  kprobes: {
    minKernel: "4.1",
    config: ["CONFIG_KPROBES", "CONFIG_KPROBE_EVENTS", "CONFIG_BPF_EVENTS"],
    check: () =>
      existsSync("/sys/bus/event_source/devices/kprobe") ||
      existsSync("/sys/kernel/tracing/kprobe_events") ||
      existsSync("/sys/kernel/debug/tracing/kprobe_events")
        ? undefined
        : "neither the kprobe PMU nor tracefs kprobe_events exists",
  },
  // BPF trampolines hang off ftrace's direct calls (x86-64 since 5.5) and need kernel BTF.
  fentry: {
    minKernel: "5.5",
    config: [
      "CONFIG_BPF_JIT",
      "CONFIG_DEBUG_INFO_BTF",
      "CONFIG_FUNCTION_TRACER",
      "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS",
    ],
    check: ftraceRestricted,
  },
  ringbuf: { minKernel: "5.8", config: ["CONFIG_BPF_SYSCALL"] },
};

/**
 * Some kernels (the development VM's among them) deny ftrace to everyone, root included:
 * opening tracefs available_filter_functions fails with EPERM, and BPF_PROG_LOAD of
 * fentry/fexit fails with EPERM as well. That is a policy of the machine, not a loader bug.
 */
function ftraceRestricted(): string | undefined {
  for (const root of ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]) {
    const path = `${root}/available_filter_functions`;
    if (!existsSync(path)) continue;
    try {
      closeSync(openSync(path, "r"));
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EPERM" || code === "EACCES")
        return `this kernel denies ftrace (opening ${path}: ${code}), so it cannot attach BPF trampolines`;
    }
  }
  return undefined; // tracefs not mounted or unreadable for other reasons: expect the feature
}

/**
 * Why the running kernel legitimately lacks `feature`, or undefined when it should have it:
 * older than the feature's minimum, an option configured out, or (without a config on record)
 * the kernel not exposing it.
 */
export function featureMissing(feature: KernelFeature): string | undefined {
  const f = FEATURES[feature];
  const v = kernelVersion();
  if (older(v, parseKernelVersion(f.minKernel)))
    return `${feature} needs Linux ${f.minKernel}+, this is ${release()}`;
  const cfg = kernelConfig();
  if (cfg) {
    const off = f.config.filter((o) => cfg.get(o) !== "y" && cfg.get(o) !== "m");
    if (off.length) return `${feature}: ${off.map((o) => `${o} is not set`).join(", ")}`;
  }
  const why = f.check?.();
  return why === undefined ? undefined : `${feature}: ${why}`;
}

/** Features the environment insists on (TSBPF_REQUIRE_FEATURES, comma separated). */
function requiredFeatures(): Set<string> {
  return new Set(
    (process.env.TSBPF_REQUIRE_FEATURES ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/**
 * Call at the start of a kernel test. Returns false (test skipped) when the kernel cannot be
 * used here; under CI=true it throws instead so the run fails.
 *
 * With `{ minKernel, feature }`: additionally skips (locally and under CI) when the kernel is
 * older than `minKernel` or legitimately lacks a feature; otherwise returns true and the test
 * must let any load/attach error fail it. A string is an extra reason not to run (old form).
 */
export function needsKernel(t: TestContext, needs?: string | KernelNeeds): boolean {
  const extra = typeof needs === "string" ? needs : undefined;
  const why = extra ?? kernelUnavailable();
  if (why !== undefined) {
    if (inCI) throw new Error(`kernel test cannot run under CI: ${why}`);
    t.skip(why);
    return false;
  }
  if (typeof needs !== "object") return true;
  if (
    needs.minKernel !== undefined &&
    older(kernelVersion(), parseKernelVersion(needs.minKernel))
  ) {
    t.skip(`needs Linux ${needs.minKernel}+, this is ${release()}`);
    return false;
  }
  const features = needs.feature === undefined ? [] : [needs.feature].flat();
  const required = requiredFeatures();
  for (const f of features) {
    const missing = featureMissing(f);
    if (missing === undefined) continue;
    if (required.has(f))
      throw new Error(`${missing} — but TSBPF_REQUIRE_FEATURES says this kernel must have ${f}`);
    t.skip(missing);
    return false;
  }
  return true;
}
