import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hexdump, hexdumpLines } from "../../../src/cli/hexdump.js";

// The event printed in the RedBPF blog post by `cargo bpf load`.
const sample = Buffer.from(
  [
    "3cf2510a ac1f0bed c3fd401f 42000000",
    "51000000 0293e251 265202ad 2f8f62b2",
    "08004500 00850000 40002f06 056b3cf2",
    "510aac1f 0bedfdc3 1f40aaf5 7507bbd8",
    "9a7a8018 0816fa89 00000101 080a82b1",
    "1819b4d3 62134745 54202f66 6f6f2048",
    "5454502f 31000000 00000000",
  ]
    .join("")
    .replaceAll(" ", ""),
  "hex",
);

test("hexdump reproduces cargo-bpf's output byte for byte", () => {
  assert.equal(sample.length, 0x6c);
  assert.equal(
    hexdump(sample),
    [
      "|3cf2510a ac1f0bed c3fd401f 42000000| <.Q.......@.B... 00000000",
      "|51000000 0293e251 265202ad 2f8f62b2| Q......Q&R../.b. 00000010",
      "|08004500 00850000 40002f06 056b3cf2| ..E.....@./..k<. 00000020",
      "|510aac1f 0bedfdc3 1f40aaf5 7507bbd8| Q........@..u... 00000030",
      "|9a7a8018 0816fa89 00000101 080a82b1| .z.............. 00000040",
      "|1819b4d3 62134745 54202f66 6f6f2048| ....b.GET /foo H 00000050",
      "|5454502f 31000000 00000000|          TTP/1.......     00000060",
      "                                                       0000006c",
    ].join("\n"),
  );
});

test("hexdump of nothing is just the length line", () => {
  assert.deepEqual(hexdumpLines(new Uint8Array()), [" ".repeat(55) + "00000000"]);
});

test("every hexdump line has the same width and the length line is last", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const lines = hexdumpLines(bytes);
      assert.equal(lines.length, Math.ceil(bytes.length / 16) + 1);
      for (const l of lines) assert.equal(l.length, 63);
      assert.equal(parseInt(lines.at(-1)!.trim(), 16), bytes.length);
    }),
  );
});
