// Property: whatever the source, the compiler either produces an object or throws a
// CompileError / CompileErrors with a position; never an internal error, never a hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { CompileError, CompileErrors, compileProbe } from "../../../src/compiler/index.js";
import { virtualPath } from "./support.js";
import { program, scalarProgram } from "./fuzz-gen.js";

const TRACE_HTTP = readFileSync(
  fileURLToPath(new URL("../../../../examples/trace_http/probe.ts", import.meta.url)),
  "utf8",
).replace("./shared.js", "tsbpf/types");

/** Compiles `text`; true when it produced an object, false for a well-formed CompileError. */
function checkCompiles(text: string): boolean {
  const path = virtualPath("fuzz");
  try {
    const r = compileProbe(path, { sources: new Map([[path, text]]) });
    assert.ok(r.elf.byteLength > 64);
    for (const p of r.programs) assert.ok(p.insns.length > 0);
    return true;
  } catch (e) {
    const errs =
      e instanceof CompileErrors ? e.errors : e instanceof CompileError ? [e] : undefined;
    if (!errs)
      throw new Error(`internal error for source:\n${text}\n--\n${(e as Error).stack}`, {
        cause: e,
      });
    for (const x of errs) {
      assert.ok(x.line >= 1 && x.col >= 1, `position of ${x.format()}`);
      assert.ok(x.message.length > 0);
    }
    return false;
  }
}

test("fuzz: random programs never cause an internal error", () => {
  let built = 0;
  const runs = Number(process.env.TSBPF_FUZZ_RUNS ?? 500);
  fc.assert(
    fc.property(program, (text) => {
      if (checkCompiles(text)) built++;
    }),
    { numRuns: runs },
  );
  // The generator must reach code generation, not only the error paths.
  assert.ok(built >= runs / 10, `only ${built} of ${runs} generated programs compiled`);
});

test("fuzz: random programs of the scalar language (enums, Math, conversions, m.add, run-time indexes) never cause an internal error", () => {
  let built = 0;
  const runs = Number(process.env.TSBPF_FUZZ_RUNS ?? 300);
  fc.assert(
    fc.property(scalarProgram, (text) => {
      if (checkCompiles(text)) built++;
    }),
    { numRuns: runs },
  );
  assert.ok(built >= runs / 10, `only ${built} of ${runs} generated programs compiled`);
});

const tokens = [
  " ",
  ";",
  "}",
  "{",
  "(",
  ")",
  "!",
  "0",
  "ctx",
  ".",
  "return ",
  "const x = ",
  "=>",
  "null",
  "if (",
  "\n",
  "'",
  "`",
  "/*",
  "as any",
  "1.5",
];

test("fuzz: mutated trace_http never causes an internal error", () => {
  const mutation = fc.oneof(
    fc.tuple(fc.nat(), fc.nat({ max: 40 })).map(([at, n]) => (s: string) => {
      const i = at % s.length;
      return s.slice(0, i) + s.slice(i + n);
    }),
    fc.tuple(fc.nat(), fc.constantFrom(...tokens)).map(([at, tok]) => (s: string) => {
      const i = at % s.length;
      return s.slice(0, i) + tok + s.slice(i);
    }),
    fc.tuple(fc.nat(), fc.nat(), fc.nat({ max: 60 })).map(([from, to, n]) => (s: string) => {
      const i = from % s.length;
      const j = to % s.length;
      return s.slice(0, j) + s.slice(i, i + n) + s.slice(j);
    }),
  );
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) => {
      checkCompiles(muts.reduce((s, m) => m(s), TRACE_HTTP));
    }),
    { numRuns: Number(process.env.TSBPF_FUZZ_RUNS ?? 500) },
  );
});
