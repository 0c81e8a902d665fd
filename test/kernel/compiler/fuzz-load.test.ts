// Compiler fuzzing against the kernel: thousands of random programs (the generator of the unit
// fuzz test), compiled in batches of many programs per file (one type check per batch); every
// program that compiles is loaded with BPF_PROG_LOAD and run once with BPF_PROG_TEST_RUN. The
// verifier must accept it, or the compiler must have reported a diagnostic: "compiled, then
// rejected at load" fails the test. TSBPF_FUZZ_LOAD_RUNS and TSBPF_FUZZ_SEED repeat a run.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { needsKernel } from "../../support/kernel.js";
import { CompileError, CompileErrors, compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { VerifierError } from "../../../src/load/verifier.js";
import {
  PRELUDE,
  SCALAR_PRELUDE,
  programBody,
  bpfLoopProgramBody,
  programText,
  scalarProgramBody,
} from "../../unit/compiler/fuzz-gen.js";
import { virtualPath } from "../../unit/compiler/support.js";
import { frame } from "../../unit/compiler/packets.js";

const FRAME = frame({ ip: 4, payload: "GET /index.html HTTP/1.1\r\n" });
const COMPLEXITY = /BPF program is too large|jumps is too complex/;
const RUNS = Number(process.env.TSBPF_FUZZ_LOAD_RUNS ?? 3000);
const BATCH = 60;

interface Unit {
  name: string;
  text: string;
  /** first and last 1-based line of the program in the batch file */
  from: number;
  to: number;
}

/** The prelude of the generator being run (the tests of this file run one after another). */
let prelude = PRELUDE;

function layout(units: { name: string; text: string }[]): { src: string; placed: Unit[] } {
  let line = prelude.split("\n").length;
  const placed = units.map((u) => {
    const n = u.text.split("\n").length - 1;
    const p = { ...u, from: line, to: line + n - 1 };
    line += n;
    return p;
  });
  return { src: prelude + placed.map((u) => u.text).join(""), placed };
}

/**
 * Compile the programs together, dropping each one a diagnostic points into until the rest
 * compiles. Returns the object and the programs in it, and how many were diagnosed.
 */
function compileBatch(units: { name: string; text: string }[]): {
  elf?: Uint8Array;
  kept: Unit[];
  diagnosed: number;
} {
  let rest = units;
  let diagnosed = 0;
  for (;;) {
    if (rest.length === 0) return { kept: [], diagnosed };
    const { src, placed } = layout(rest);
    const path = virtualPath("fuzzload");
    try {
      const r = compileProbe(path, { sources: new Map([[path, src]]) });
      return { elf: r.elf, kept: placed, diagnosed };
    } catch (e) {
      const errs = e instanceof CompileErrors ? e.errors : e instanceof CompileError ? [e] : [];
      if (errs.length === 0) throw new Error(`internal error for:\n${src}`, { cause: e });
      const bad = new Set(
        placed
          .filter((u) => errs.some((x) => x.line >= u.from && x.line <= u.to))
          .map((u) => u.name),
      );
      // An error outside every program (the prelude's function, a call chain): try one by one.
      if (bad.size === 0) {
        if (placed.length === 1) return { kept: [], diagnosed: diagnosed + 1 };
        const parts = placed.map((u) => compileBatch([u]));
        throw Object.assign(new Error("split"), { parts });
      }
      diagnosed += bad.size;
      rest = placed.filter((u) => !bad.has(u.name));
    }
  }
}

test("fuzz: thousands of random programs — what compiles, the verifier accepts", (t) => {
  if (!needsKernel(t)) return;
  fuzzLoad(t, programBody, PRELUDE, RUNS);
});

test("fuzz: random programs of the scalar language — what compiles, the verifier accepts", (t) => {
  if (!needsKernel(t)) return;
  fuzzLoad(t, scalarProgramBody, SCALAR_PRELUDE, Math.ceil(RUNS / 5));
});

test("fuzz: long loops with branching bodies — bpf_loop callbacks the verifier accepts", (t) => {
  if (!needsKernel(t)) return;
  // Even as a callback, a body whose branches test variables the verifier knows exactly (a
  // constant assigned in the body) is followed call by call on Linux 6.8+ and can pass its
  // complexity limit: counted, and allowed up to 15% of these deliberately branchy programs.
  fuzzLoad(t, bpfLoopProgramBody, PRELUDE, Math.ceil(RUNS / 100), 0.15);
});

function fuzzLoad(
  t: { diagnostic(msg: string): void },
  programBody: fc.Arbitrary<string[]>,
  pre: string,
  RUNS: number,
  tooComplexShare = 1 / 500,
): void {
  prelude = pre;
  const seed = Number(process.env.TSBPF_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const bodies = fc.sample(programBody, { seed, numRuns: RUNS });
  let loaded = 0;
  let diagnosed = 0;
  const tooComplex: string[] = [];
  for (let k = 0; k < bodies.length; k += BATCH) {
    const units = bodies
      .slice(k, k + BATCH)
      .map((b, j) => ({ name: `p${k + j}`, text: programText(`p${k + j}`, b) }));
    let batches: ReturnType<typeof compileBatch>[];
    try {
      batches = [compileBatch(units)];
    } catch (e) {
      const parts = (e as { parts?: ReturnType<typeof compileBatch>[] }).parts;
      if (!parts) throw e;
      batches = parts;
    }
    for (let q = batches.shift(); q; q = batches.shift()) {
      const { elf, kept, diagnosed: d } = q;
      diagnosed += d;
      if (!elf) continue;
      let coll: Collection;
      try {
        coll = Collection.load(elf);
      } catch (e) {
        // The verifier's complexity limit on a loop whose body branches on run-time values is
        // the one rejection the compiler cannot predict (docs/probe-language.md, "Limits"):
        // counted and reported, and the batch is loaded again without that program.
        if (e instanceof VerifierError && COMPLEXITY.test(e.message)) {
          tooComplex.push(e.program);
          const again = compileBatch(kept.filter((u) => u.name !== e.program));
          diagnosed += again.diagnosed;
          batches.push({ ...again, diagnosed: 0 });
          continue;
        }
        const name = e instanceof VerifierError ? e.program : undefined;
        const u = kept.find((x) => x.name === name);
        assert.fail(
          `compiled, then rejected by the verifier (seed ${seed}): ${(e as Error).message}\n${prelude}${u?.text ?? kept.map((x) => x.text).join("")}`,
        );
      }
      // Every program returns Pass or Drop (the generator's only actions) on a real frame.
      try {
        for (const u of kept) {
          const r = coll.programs.get(u.name)!.testRun({ data: FRAME });
          assert.ok(r.retval === 1 || r.retval === 2, `${u.name} returned ${r.retval}\n${u.text}`);
        }
      } finally {
        coll.close();
      }
      loaded += kept.length;
    }
  }
  t.diagnostic(
    `seed ${seed}: ${loaded} loaded, ${diagnosed} diagnosed, ${tooComplex.length} past the verifier's complexity limit (${tooComplex.join(", ")}) of ${RUNS}`,
  );
  assert.equal(loaded + diagnosed + tooComplex.length, RUNS);
  assert.ok(
    tooComplex.length <= RUNS * tooComplexShare,
    `${tooComplex.length} programs too complex`,
  );
  // The generator must reach the kernel, not only the error paths.
  assert.ok(loaded >= RUNS / 10, `only ${loaded} of ${RUNS} programs compiled`);
}
