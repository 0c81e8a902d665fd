// The kernel-feature rule of test/support/kernel.ts: versions, minimums, and what a declared
// feature the kernel lacks does (skip with the reason; fail when TSBPF_REQUIRE_FEATURES says so).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { release } from "node:os";
import {
  featureMissing,
  kernelUnavailable,
  kernelVersion,
  needsKernel,
  parseKernelVersion,
} from "../../support/kernel.js";

/** A TestContext that records skip(), for calling needsKernel outside a kernel test. */
function recorder(): { t: TestContext; skipped: string[] } {
  const skipped: string[] = [];
  const t = { skip: (why?: string) => void skipped.push(why ?? "") } as unknown as TestContext;
  return { t, skipped };
}

test("kernel release strings parse to major.minor.patch", () => {
  assert.deepEqual(parseKernelVersion("6.1.0-56-cloud-amd64"), [6, 1, 0]);
  assert.deepEqual(parseKernelVersion("6.12.101+deb12-cloud-amd64"), [6, 12, 101]);
  assert.deepEqual(parseKernelVersion("6.18.44-fc-v595"), [6, 18, 44]);
  assert.deepEqual(parseKernelVersion("5.8"), [5, 8, 0]);
  assert.throws(() => parseKernelVersion("linux"), /cannot read a kernel version from "linux"/);
  assert.deepEqual(kernelVersion(), parseKernelVersion(release()));
});

test("a kernel older than minKernel skips with the versions, even under CI", (t) => {
  if (kernelUnavailable() !== undefined) return t.skip("needs root on Linux with BTF");
  const r = recorder();
  assert.equal(needsKernel(r.t, { minKernel: "99.0" }), false);
  assert.match(r.skipped[0]!, new RegExp(`needs Linux 99\\.0\\+, this is ${release()}`));
  const ok = recorder();
  assert.equal(needsKernel(ok.t, { minKernel: "3.0" }), true);
  assert.deepEqual(ok.skipped, []);
});

test("a declared feature: skip with the reason where missing, fail where required", (t) => {
  if (kernelUnavailable() !== undefined) return t.skip("needs root on Linux with BTF");
  for (const feature of ["kprobes", "fentry", "ringbuf"] as const) {
    const missing = featureMissing(feature);
    const r = recorder();
    const saved = process.env.TSBPF_REQUIRE_FEATURES;
    try {
      delete process.env.TSBPF_REQUIRE_FEATURES;
      assert.equal(needsKernel(r.t, { feature }), missing === undefined, feature);
      assert.deepEqual(r.skipped, missing === undefined ? [] : [missing]);
      process.env.TSBPF_REQUIRE_FEATURES = `x,${feature}`;
      if (missing === undefined) assert.equal(needsKernel(recorder().t, { feature }), true);
      else
        assert.throws(
          () => needsKernel(recorder().t, { feature }),
          new RegExp(`TSBPF_REQUIRE_FEATURES says this kernel must have ${feature}`),
        );
    } finally {
      if (saved === undefined) delete process.env.TSBPF_REQUIRE_FEATURES;
      else process.env.TSBPF_REQUIRE_FEATURES = saved;
    }
  }
});
