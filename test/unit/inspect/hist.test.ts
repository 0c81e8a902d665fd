// Terminal histograms and counters (src/inspect/hist.ts): BCC's print_log2_hist layout, linear
// buckets, counters by count, and which BTF value types count as which.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  classifyMap,
  histogramCounts,
  log2Bucket,
  log2Range,
  renderCounters,
  renderLinearHist,
  renderLog2Hist,
} from "../../../src/inspect/hist.js";
import { BtfBuilder, parseBtf } from "../../../src/obj/btf.js";

test("log2 histogram: rows from the first to the last non-empty bucket, bars scaled to the largest", () => {
  const buckets = [0, 0, 1, 0, 4, 2, 0, 0];
  assert.deepEqual(renderLog2Hist(buckets, "usecs"), [
    "  usecs  : count    distribution",
    " 2 -> 3  : 1        |**********                              |",
    " 4 -> 7  : 0        |                                        |",
    " 8 -> 15 : 4        |****************************************|",
    "16 -> 31 : 2        |********************                    |",
  ]);
  assert.deepEqual(renderLog2Hist([0, 0]), ["(no value counted yet)"]);
});

test("linear histogram: start + i·step; one value per row when step is 1", () => {
  assert.deepEqual(renderLinearHist([0, 3, 1], 10, 5, "ms"), [
    "   ms    : count    distribution",
    "15 -> 19 : 3        |****************************************|",
    "20 -> 24 : 1        |*************                           |",
  ]);
  assert.deepEqual(renderLinearHist([2, 1], 0, 1), [
    "value : count    distribution",
    "    0 : 2        |****************************************|",
    "    1 : 1        |********************                    |",
  ]);
});

test("counters: highest first, ties by key, --top leaves a count of the rest", () => {
  const entries = [
    { key: "b", count: 2 },
    { key: "a", count: 2 },
    { key: "zsh", count: 10n },
    { key: "c", count: 1 },
  ];
  assert.deepEqual(renderCounters(entries), ["zsh  10", "a    2", "b    2", "c    1"]);
  assert.deepEqual(renderCounters(entries, 2), ["zsh  10", "a    2", "… 2 more"]);
  assert.deepEqual(renderCounters([]), ["(empty)"]);
});

test("log2 buckets: every value falls in the range its bucket prints", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), (v) => {
      const [low, high] = log2Range(log2Bucket(v));
      assert.ok(low <= v && v <= high, `${v} in [${low}, ${high}]`);
    }),
  );
});

test("map shapes from BTF: integers count, int arrays and `slots` structs are histograms", () => {
  const b = new BtfBuilder();
  const u32 = b.addInt("unsigned int", 4, false);
  const u64 = b.addTypedef("__u64", b.addInt("unsigned long long", 8, false));
  const char = b.addInt("char", 1, true);
  const arr = b.addArray(u64, 16);
  const hist = b.addStruct(
    "hist",
    [{ name: "slots", type: b.addArray(u32, 32), bitOffset: 0 }],
    128,
  );
  const lhist = b.addStruct(
    "lhist",
    [
      { name: "start", type: u32, bitOffset: 0 },
      { name: "step", type: u32, bitOffset: 32 },
      { name: "slots", type: arr, bitOffset: 64 },
    ],
    136,
  );
  const comm = b.addArray(char, 16);
  const other = b.addStruct(
    "pair",
    [
      { name: "a", type: u32, bitOffset: 0 },
      { name: "b", type: u32, bitOffset: 32 },
    ],
    8,
  );
  const btf = parseBtf(b.encode());
  assert.deepEqual(classifyMap(btf, u64), { kind: "counter" });
  assert.deepEqual(classifyMap(btf, arr), { kind: "log2" });
  assert.deepEqual(classifyMap(btf, hist), { kind: "log2", field: "slots" });
  assert.deepEqual(classifyMap(btf, lhist), {
    kind: "linear",
    field: "slots",
    start: "start",
    step: "step",
  });
  assert.deepEqual(classifyMap(btf, comm), { kind: "other" }, "a char array is text");
  assert.deepEqual(classifyMap(btf, other), { kind: "other" });
  assert.deepEqual(classifyMap(btf, 0), { kind: "other" });
  // per-CPU values are summed bucket by bucket
  assert.deepEqual(
    histogramCounts({ kind: "log2", field: "slots" }, [{ slots: [1, 2] }, { slots: [3, 4n] }]),
    [4n, 6n],
  );
});
