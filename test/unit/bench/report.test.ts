// The bench's pure helpers: medians, ratios against targets, the table, the reference
// binaries' output parsing and the expected checksums.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  TABLE_HEADER,
  compare,
  formatTable,
  formatValue,
  lookupChecksum,
  median,
  meets,
  parseJsonLine,
  ringbufChecksum,
} from "../../../bench/report.js";
import { rawChecksum } from "../../../bench/reference.js";

test("median of odd and even lists, order-independent", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), RangeError);
  fc.assert(
    fc.property(
      fc.array(
        fc.double({ noNaN: true, min: -1e9, max: 1e9 }).map((x) => x + 0),
        { minLength: 1 },
      ),
      (xs) => {
        const m = median(xs);
        assert.equal(median([...xs].reverse()), m);
        assert.ok(xs.filter((x) => x <= m).length >= xs.length / 2);
        assert.ok(xs.filter((x) => x >= m).length >= xs.length / 2);
      },
    ),
  );
});

test("compare: ratio is tsbpf / libbpf of the medians, judged by the target", () => {
  const up = compare(
    "x",
    "events/s",
    { tsbpf: [8, 9, 10], libbpf: [10, 11, 12] },
    { op: ">=", value: 0.8 },
  );
  assert.equal(up.ratio, 9 / 11);
  assert.equal(up.pass, true);
  const down = compare("t", "ms", { tsbpf: [13], libbpf: [10] }, { op: "<=", value: 1.2 });
  assert.equal(down.pass, false);
  const info = compare("i", "ms", { tsbpf: [1], libbpf: [] });
  assert.equal(info.libbpf, undefined);
  assert.equal(info.ratio, undefined);
  assert.equal(info.pass, undefined);
  assert.equal(meets(1.2, { op: "<=", value: 1.2 }), true);
  assert.equal(meets(0.79, { op: ">=", value: 0.8 }), false);
});

test("formatTable: header, rule, one aligned line per row, pass marks, notes", () => {
  const rows = [
    compare(
      "ring",
      "events/s",
      { tsbpf: [12_345_678], libbpf: [20_000_000] },
      { op: ">=", value: 0.8 },
    ),
    compare("load", "ms", { tsbpf: [0.9], libbpf: [1] }, { op: "<=", value: 1.2 }, "a note"),
    compare("detach", "ms", { tsbpf: [80], libbpf: [] }),
  ];
  const lines = formatTable(rows).split("\n");
  assert.deepEqual(
    lines[0]!.split("|").map((c) => c.trim()),
    [...TABLE_HEADER],
  );
  assert.match(lines[1]!, /^-+(-\+-+)+$/);
  const cells = lines.slice(2, 5).map((l) => l.split("|").map((c) => c.trim()));
  assert.deepEqual(cells[0], ["ring (events/s)", "12.3 M", "20.0 M", "0.62×", ">= 0.8×", "✗"]);
  assert.deepEqual(cells[1], ["load (ms)", "0.900", "1.00", "0.90×", "<= 1.2×", "✓"]);
  assert.deepEqual(cells[2], ["detach (ms)", "80.0", "–", "–", "–", "–"]);
  const width = [...lines[2]!].length;
  for (const l of lines.slice(0, 5)) assert.equal([...l].length, width);
  assert.equal(lines.at(-1), "load: a note");
});

test("formatValue picks a suffix and three significant digits", () => {
  assert.equal(formatValue(296_000_000), "296 M");
  assert.equal(formatValue(362_123), "362 k");
  assert.equal(formatValue(1.5e9), "1.50 G");
  assert.equal(formatValue(6.494), "6.49");
  assert.equal(formatValue(150), "150");
});

test("parseJsonLine takes exactly one JSON object line and names the culprit otherwise", () => {
  assert.deepEqual(parseJsonLine('{"a":1}\n', "x"), { a: 1 });
  assert.throws(() => parseJsonLine("", "map_lookup"), /map_lookup printed/);
  assert.throws(() => parseJsonLine('{"a":1}\n{"b":2}\n', "x"), /2 lines/);
  assert.throws(() => parseJsonLine("oops", "x"), /not JSON/);
  assert.throws(() => parseJsonLine("[1]", "x"), /not an object/);
});

test("checksums: closed forms agree with summing, and the raw field keeps every bit", () => {
  for (const n of [0, 1, 2, 4096, 200_000]) {
    let s = 0n;
    for (let i = 0; i < n; i++) s += 3n * BigInt(i);
    assert.equal(ringbufChecksum(n), s);
  }
  assert.equal(ringbufChecksum(5_000_000), 37499992500000n);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 300 }), (n, e) => {
      let s = 0n;
      for (let i = 0; i < n; i++) s += 7n * BigInt(i % e);
      assert.equal(lookupChecksum(n, e), s);
    }),
  );
  assert.equal(rawChecksum('{"x":1,"checksum":18446744073709551615}'), 2n ** 64n - 1n);
  assert.equal(rawChecksum('{"x":1}'), undefined);
});
