import { test } from "node:test";
import assert from "node:assert/strict";
import {
  array,
  be32,
  bytes,
  cDeclarator,
  i8,
  struct,
  toC,
  u16,
  u32,
  u64,
  u8,
} from "../../../src/types/index.js";

const RequestInfo = struct("RequestInfo", { saddr: u32, daddr: u32, sport: u16, dport: u16 });

test("toC renders the struct declaration", () => {
  assert.equal(
    toC(RequestInfo),
    "struct RequestInfo {\n\t__u32 saddr;\n\t__u32 daddr;\n\t__u16 sport;\n\t__u16 dport;\n};\n",
  );
});

test("toC declares nested structs first, once each, and can add typedefs and offsets", () => {
  const Inner = struct("Inner", { x: u8 });
  const Outer = struct("Outer", { a: Inner, b: array(Inner, 2), c: u64, addr: be32 });
  assert.equal(
    toC(Outer, { typedefs: true, offsets: true }),
    [
      "typedef unsigned char __u8;",
      "typedef unsigned int __u32;",
      "typedef unsigned long long __u64;",
      "typedef __u32 __be32;",
      "",
      "struct Inner {",
      "\t__u8 x; /* offset 0, size 1 */",
      "}; /* size 1, align 1 */",
      "",
      "struct Outer {",
      "\tstruct Inner a; /* offset 0, size 1 */",
      "\tstruct Inner b[2]; /* offset 1, size 2 */",
      "\t__u64 c; /* offset 8, size 8 */",
      "\t__be32 addr; /* offset 16, size 4 */",
      "}; /* size 24, align 8 */",
      "",
    ].join("\n"),
  );
});

test("cDeclarator spells arrays C's way round", () => {
  assert.equal(cDeclarator(bytes(16), "comm"), "__u8 comm[16]");
  assert.equal(cDeclarator(array(array(i8, 3), 2), "m"), "__s8 m[2][3]");
  assert.equal(cDeclarator(RequestInfo, "req"), "struct RequestInfo req");
});

test("toC refuses two different structs with one name", () => {
  const A = struct("Same", { x: u8 });
  const B = struct("Same", { y: u8 });
  const Both = struct("Both", { a: A, b: B });
  assert.throws(() => toC(Both), /two different structs are named Same/);
  const Twin = struct("Same", { x: u8 });
  const Pair = struct("Pair", { a: A, b: Twin });
  assert.equal(toC(Pair).match(/struct Same \{/g)?.length, 1);
});
