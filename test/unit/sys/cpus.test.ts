import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CpuListError, MAX_CPUS, parseCpuList } from "../../../src/sys/cpus.js";

test("parses kernel CPU lists", () => {
  assert.deepEqual(parseCpuList("0\n"), [0]);
  assert.deepEqual(parseCpuList("0-3\n"), [0, 1, 2, 3]);
  assert.deepEqual(parseCpuList("0-1,4,6-7"), [0, 1, 4, 6, 7]);
  assert.deepEqual(parseCpuList("3,1,1-2"), [1, 2, 3]);
  assert.deepEqual(parseCpuList(""), []);
});

test("rejects malformed, reversed and oversized lists with CpuListError", () => {
  for (const bad of ["a", "1-", "-1", "3-1", "0-99999999", "1,,2", `0-${MAX_CPUS}`])
    assert.throws(() => parseCpuList(bad), CpuListError, bad);
});

test("ranges round-trip and arbitrary input never crashes or over-allocates", () => {
  const range = fc.tuple(fc.nat(300), fc.nat(20)).map(([lo, n]) => [lo, lo + n] as const);
  fc.assert(
    fc.property(fc.array(range, { minLength: 1, maxLength: 8 }), (ranges) => {
      const text = ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(",");
      const want = new Set<number>();
      for (const [a, b] of ranges) for (let i = a; i <= b; i++) want.add(i);
      assert.deepEqual(
        parseCpuList(text),
        [...want].sort((x, y) => x - y),
      );
    }),
  );
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(..."0123456789-,\n x") }), (s) => {
      try {
        const cpus = parseCpuList(s);
        assert.ok(cpus.length <= MAX_CPUS);
      } catch (e) {
        assert.ok(e instanceof CpuListError, String(e));
      }
    }),
  );
});
