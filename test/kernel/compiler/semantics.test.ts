// Language semantics on memory-typed values and control flow, checked in the kernel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { u32, u64 } from "../../../src/types/index.js";
import { frame } from "../../unit/compiler/packets.js";

const FIXTURE = fileURLToPath(
  new URL("../../../../test/fixtures/probes/semantics.ts", import.meta.url),
);

test("semantics: fields, truthiness, switch, shifts (>>> as in JavaScript), division by zero, inlined early returns", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileProbe(FIXTURE).elf);
  for (const name of ["fields", "lookups", "control", "locals"])
    assert.equal(coll.programs.get(name)!.testRun({ data: new Uint8Array(64) }).retval, 2, name);
  const out = coll.maps.get("out")!;
  const at = (i: number) =>
    BigInt.asIntN(64, u64.decode(out.get(u32.encode(i) as never) as Uint8Array));
  assert.deepEqual(
    Array.from({ length: 14 }, (_, i) => at(i)),
    [1n, 0n, 8080n, 7n, 1n, 0n, 0n, 0n, 5n, 110n, -4n, 15n, 0n, 7n],
  );
  // `>>>` truncates to 32 bits and masks its count, as in JavaScript
  assert.deepEqual([15, 16, 17, 18, 19].map(at), [
    4294967280n,
    268435455n,
    2147483640n,
    591751049n,
    4294967280n,
  ]);
  // a struct local initialised with constants only (`{ n: 0, w: new Uint8Array(8) }`)
  assert.deepEqual([20, 21, 22].map(at), [64n, 65n, 0n]);
  const idioms = coll.programs.get("idioms")!;
  assert.equal(idioms.testRun({ data: frame({ ip: 4, payload: "GET / HTTP/1.1\r\n" }) }).retval, 1);
  assert.equal(at(14), 8080n, "d && recs.get(1) found the record");
  assert.equal(idioms.testRun({ data: frame({ ip: 6, payload: "PUT /" }) }).retval, 2);
  assert.equal(idioms.testRun({ data: frame({ ip: 4, payload: "GE" }) }).retval, 2);
  assert.equal(idioms.testRun({ data: new Uint8Array(20) }).retval, 2);
});
