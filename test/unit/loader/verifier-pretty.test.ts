import { test } from "node:test";
import assert from "node:assert/strict";
import { VerifierError } from "../../../src/load/verifier.js";
import { Loader } from "../../../src/load/loader.js";

const LOG = [
  "0: R1=ctx() R10=fp0",
  "0: (61) r2 = *(u32 *)(r1 +0)",
  "1: (71) r3 = *(u8 *)(r2 +12)",
  "invalid access to packet, off=12 size=1, R2(id=0,off=0,r=0)",
  "R2 offset is outside of the packet",
  "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
].join("\n");

test("pretty() marks the instruction the verifier stopped at", () => {
  const e = new VerifierError("prog", 13, LOG);
  assert.equal(e.insn, 1);
  const lines = e.pretty().split("\n");
  assert.deepEqual(
    lines.filter((l) => l.startsWith(">")),
    ["> 1: (71) r3 = *(u8 *)(r2 +12)"],
  );
  assert.equal(lines.length, LOG.split("\n").length);
});

test("Loader.perfPages takes a power of two", () => {
  assert.ok(Loader.create().perfPages(8));
  assert.throws(() => Loader.create().perfPages(3), /power of two/);
  assert.throws(() => Loader.create().perfPages(0), /power of two/);
});
