import { test } from "node:test";
import assert from "node:assert/strict";
import { clipLog } from "../../../src/cli/main.js";

test("short verifier logs are printed whole", () => {
  assert.equal(clipLog("a\nb\nc\n", 10), "a\nb\nc");
});

test("long verifier logs keep their beginning and end and say what was left out", () => {
  const log = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n");
  const out = clipLog(log, 10).split("\n");
  assert.equal(out.length, 11);
  assert.deepEqual(out.slice(0, 5), ["line 0", "line 1", "line 2", "line 3", "line 4"]);
  assert.match(out[5]!, /990 lines left out \(set TSBPF_FULL_LOG=1/);
  assert.deepEqual(out.slice(6), ["line 995", "line 996", "line 997", "line 998", "line 999"]);
});
