// User-reachable errors that need no kernel are typed and say what to do (issue 17), and the
// CLI prints a typed error as one line but anything else with its stack and a request for a
// report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Loader } from "../../../src/load/loader.js";
import { LoadError } from "../../../src/load/collection.js";
import { coreTargets, KernelBtfError } from "../../../src/load/kernel-btf.js";
import {
  array,
  struct,
  u8,
  u32,
  EncodeError,
  DecodeError,
  TypeDefinitionError,
  toC,
} from "../../../src/types/index.js";
import { reportError } from "../../../src/cli/main.js";
import { MapError } from "../../../src/map/map.js";
import { bug } from "../../../src/bug.js";

test("Loader.perfPages with a bad page count: LoadError naming the call and the values it takes", () => {
  for (const bad of [0, 3, 1.5, -4, 1 << 19])
    assert.throws(
      () => Loader.create().perfPages(bad),
      (e: unknown) =>
        e instanceof LoadError &&
        e.message.startsWith(`perfPages(${bad}): `) &&
        /power of two .*262144/.test(e.message),
      String(bad),
    );
  Loader.create().perfPages(64); // a good one is taken
});

test("bad type definitions: TypeDefinitionError (still a TypeError) naming the type", () => {
  const bad = (re: RegExp) => (e: unknown) =>
    e instanceof TypeDefinitionError && e instanceof TypeError && re.test(e.message);
  assert.throws(() => struct("1x", { a: u8 }), bad(/struct\("1x"\): the struct name/));
  assert.throws(() => struct("S", {}), bad(/struct S: needs at least one field/));
  assert.throws(() => struct("S", { a: 3 as never }), bad(/field a must be a tsbpf type/));
  assert.throws(() => array(u8, 0), bad(/array\(u8, 0\): length must be an integer ≥ 1/));
  assert.throws(() => array(u32, 2 ** 30), bad(/array\(u32, \d+\): \d+ bytes is larger than/));
  const A = struct("Same", { a: u8 });
  const B = struct("Same", { b: u32 });
  assert.throws(
    () => toC(struct("Outer", { a: A, b: B })),
    bad(/two different structs are named Same/),
  );
  assert.throws(() => A.view({ int64: "nope" as never }), bad(/view\(\{ int64 \}\)/));
});

test("encode/decode outside the buffer: EncodeError / DecodeError naming the type", () => {
  const S = struct("Pair", { a: u32, b: u32 });
  assert.throws(
    () => S.encode({ a: 1, b: 2 }, new Uint8Array(4)),
    (e: unknown) => e instanceof EncodeError && /Pair: output buffer of 4 bytes/.test(e.message),
  );
  const view = new DataView(new ArrayBuffer(8));
  assert.throws(
    () => S.encodeInto(view, 4, { a: 1, b: 2 }),
    (e: unknown) =>
      e instanceof EncodeError && /Pair: 8 bytes at offset 4 do not fit/.test(e.message),
  );
  assert.throws(() => S.decodeFrom(view, 4), DecodeError);
});

test("a BTF file that cannot be read: KernelBtfError naming the file", () => {
  assert.throws(
    () => coreTargets("/nonexistent/vmlinux.btf"),
    (e: unknown) =>
      e instanceof KernelBtfError &&
      /cannot read the BTF file \/nonexistent\/vmlinux.btf: ENOENT/.test(e.message),
  );
});

/** What reportError prints for `e`, and its exit code. */
async function report(e: unknown): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  try {
    const code = await reportError(e);
    return { code, out: lines.join("\n") };
  } finally {
    console.error = original;
  }
}

test("the CLI: a typed error is one line, anything else a stack and a request for a report", async () => {
  const user = await report(new MapError("map x: key must be 4 bytes, got 8"));
  assert.equal(user.code, 1);
  assert.match(user.out, /^.*error: map x: key must be 4 bytes, got 8.*$/);
  assert.doesNotMatch(user.out, /internal error|\n {4}at |please report/);
  for (const internal of [new Error("plain"), new TypeError("t"), bug("an invariant")]) {
    const r = await report(internal);
    assert.equal(r.code, 70, internal.message);
    assert.match(r.out, /internal error: .*\n {4}at /, internal.message);
    assert.match(r.out, /please report this/, internal.message);
  }
});
