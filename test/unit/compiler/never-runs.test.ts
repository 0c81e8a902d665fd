// A loop whose bound is reached before its first iteration emits nothing, yet its body is
// checked (docs/probe-language.md, "Statements"): errors in it are reported, and a body that
// is only valid for some counter values is not.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { disassemble } from "../../../src/obj/disasm.js";
import { Code, CompileError, CompileErrors } from "../../../src/compiler/index.js";
import { compileSource, lineOf } from "./support.js";

const Big = `const Big = struct("Big", { a: array(u32, 80) });\ntype Big = Infer<typeof Big>;\nconst Mid = struct("Mid", { a: array(u32, 50) });\ntype Mid = Infer<typeof Mid>;\nconst W = struct("W", { w: array(u32, 2) });\ntype W = Infer<typeof W>;\nconst N = 0;\nconst m = map("m", new HashMap(u32, u64, { maxEntries: 8 }));\n`;

const zeros = (n: number) => Array<number>(n).fill(0).join(", ");

/** An xdp program around `stmts`, with `a`, `b`, `ev` live and a 320-byte struct local after. */
const prog = (stmts: string) =>
  `${Big}export const p = xdp((ctx: XdpContext) => {\n  let a = ctx.ingressIfindex;\n  let b = 1;\n  const ev: W = { w: [0, 0] };\n${stmts}\n  const keep: Big = { a: [${zeros(80)}] };\n  keep.a[1] = a;\n  tracePrintk("%d %d", a + b, ev.w[1]);\n  return XdpAction.Pass;\n});\n`;

const insns = (src: string) =>
  compileSource(src)
    .programs.map((p) => disassemble(p.insns).join("\n"))
    .join("\n");

test("a loop that never runs emits nothing and takes no stack", () => {
  const without = insns(prog(""));
  // 200 bytes in the dead body + 320 after it would exceed 512 if the body kept its slot.
  for (const loop of [
    `for (let i = 0; i < N; i++) { const mid: Mid = { a: [${zeros(50)}] }; m.set(i, toBigInt(a)); mid.a[1] = 2; a += i; }`,
    "for (let j = 20; j < 6; j += 2) { a = toNumber(m.get(j) ?? 1n); break; }",
    "for (let i = 3; i >= 4; i--) { for (let k = 0; k < 100; k++) { b ^= k; if (b > 9) return XdpAction.Drop; } }",
  ])
    assert.equal(insns(prog(`  ${loop}`)), without, loop);
});

test("a body valid only for some counter values is accepted in a loop that never runs", () => {
  // ev.w[i]: a constant index when unrolled, not with a run-time counter
  assert.equal(insns(prog("  for (let i = 0; i < N; i++) ev.w[i] = 1;")), insns(prog("")));
  // bs.at(i + 8): out of range for the start value, a checked run-time index otherwise
  const bytes = "  const d = ctx.data();\n  const bs = d && d.read(4);\n";
  assert.equal(
    insns(prog(`${bytes}  if (bs) for (let i = 0; i < N; i++) a += bs.at(i + 8);`)),
    insns(prog(bytes)),
  );
});

const bodies = fc.constantFrom(
  "a += i;",
  "b = toNumber(m.get(a) ?? 0n);",
  "if (a > i) break;",
  "continue;",
  "return XdpAction.Drop;",
  "ev.w[i] = a;",
  "ev.w[i + 2] = a;",
  `{ const mid: Mid = { a: [${zeros(50)}] }; mid.a[i] = b; }`,
  "try { a = 1; } catch {}",
  "class K {}",
  "while (a) a--;",
  "a = 1.5;",
  "{ let j = 0; j++; a = j; }",
  "for (let k = 0; k < i; k++) a++;",
  "for (let k = 0; k < 3; k++) b += k;",
  "m.set(a, 1n);",
);

function outcome(src: string): { insns: string } | { line: number; code: number } {
  try {
    return { insns: insns(src) };
  } catch (e) {
    const err = e instanceof CompileErrors ? e.errors[0] : e;
    if (!(err instanceof CompileError)) throw e;
    return { line: err.line, code: err.code };
  }
}

test("fuzz: a loop that never runs is either free or reports an error inside its body", () => {
  const without = insns(prog(""));
  const memo = new Map<string, boolean>();
  /**
   * `s` fails both in a one-copy unrolled loop and in a kernel loop, so for any counter value
   * (the stack it would take does not count: a loop that never runs takes none)
   */
  const alwaysFails = (s: string): boolean => {
    let r = memo.get(s);
    if (r === undefined) {
      r = [1, 40].every((n) => {
        const o = outcome(prog(`  for (let i = 0; i < ${n}; i++) { ${s} }`));
        return !("insns" in o) && o.code !== Code.StackTooLarge;
      });
      memo.set(s, r);
    }
    return r;
  };
  fc.assert(
    fc.property(
      fc.array(bodies, { minLength: 1, maxLength: 4 }),
      fc.constantFrom("0", "N", "-1"),
      (stmts, n) => {
        const src = prog(`  for (let i = 0; i < ${n}; i++) { ${stmts.join(" ")} }`);
        const r = outcome(src);
        if ("insns" in r) {
          assert.equal(r.insns, without);
          assert.ok(!stmts.some(alwaysFails), `an error in ${stmts.join(" ")} went unreported`);
        } else assert.equal(r.line, lineOf(src, "for (let i = 0; i < "), "error outside the loop");
      },
    ),
    { numRuns: Number(process.env.TSBPF_FUZZ_RUNS ?? 40) },
  );
});
