// Capability sets read from /proc/self/status, and the hints that name what is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cap, effectiveCaps, missingCaps } from "../../../src/sys/caps.js";

const bits = (...caps: number[]) => caps.reduce((a, c) => a | (1n << BigInt(c)), 0n);

test("effectiveCaps reads CapEff from a status text", () => {
  const status = "Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000000c000001000\n";
  assert.equal(effectiveCaps(status), bits(Cap.NET_ADMIN, Cap.PERFMON, Cap.BPF));
  assert.equal(effectiveCaps("Name:\tnode\n"), undefined);
  assert.equal(typeof effectiveCaps(), "bigint", "this process's own set");
});

test("missingCaps names what is missing, CAP_SYS_ADMIN before CAP_BPF existed", () => {
  const needs = [Cap.BPF, Cap.PERFMON, Cap.NET_ADMIN];
  assert.deepEqual(missingCaps(needs, bits(Cap.BPF, Cap.PERFMON), true), ["CAP_NET_ADMIN"]);
  assert.deepEqual(missingCaps(needs, 0n, true), ["CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN"]);
  assert.deepEqual(missingCaps(needs, bits(Cap.BPF, Cap.PERFMON, Cap.NET_ADMIN), true), []);
  // A 5.4 kernel: CAP_BPF and CAP_PERFMON are both CAP_SYS_ADMIN, named once.
  assert.deepEqual(missingCaps(needs, bits(Cap.NET_ADMIN), false), ["CAP_SYS_ADMIN"]);
  assert.deepEqual(missingCaps(needs, undefined, true), [], "cannot tell: no claim");
});
