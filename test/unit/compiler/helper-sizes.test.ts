// Sized helper calls the compiler emits are bounded the way old verifiers need (Linux 6.1
// rejected the ring buffer capture copy of probe_ringbuf.ts when its length was guarded by
// `!= 0`). The model (helper-sizes.ts) is checked first on hand-written code: it must reject
// the `!= 0` guard and accept `> 0`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  asm,
  BPF_ADD,
  BPF_JEQ,
  BPF_JGT,
  BPF_JLE,
  BPF_W,
  R0,
  R1,
  R2,
  R3,
  R4,
  R6,
  R10,
  type Insn,
} from "../../../src/obj/insn.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { checkHelperSizes } from "./helper-sizes.js";
import { compileSource } from "./support.js";

/** `n = *(u32 *)(fp - 8); clamp to 64; <guard>; xdp_load_bytes(ctx, 0, fp - 72, n)`. */
function copy(guard: Insn): Insn[] {
  return [
    asm.mov64Reg(R6, R1),
    asm.st(BPF_W, R10, -8, 0),
    asm.ldx(BPF_W, R4, R10, -8),
    asm.jmpImm(BPF_JLE, R4, 64, 1),
    asm.mov64Imm(R4, 64),
    guard, // skips the call when n is 0
    asm.mov64Reg(R1, R6),
    asm.mov64Imm(R2, 0),
    asm.mov64Reg(R3, R10),
    asm.alu64Imm(BPF_ADD, R3, -72),
    asm.call(189),
    asm.mov64Imm(R0, 2),
    asm.exit(),
  ];
}

test("the size model refuses a length guarded by == 0 and accepts one guarded by <= 0", () => {
  const bad = checkHelperSizes(copy(asm.jmpImm(BPF_JEQ, R4, 0, 5)));
  assert.equal(bad.checked, 1);
  assert.deepEqual(
    bad.problems.map((p) => [p.pc, p.reg, p.range.lo, p.range.hi]),
    [[10, 4, 0n, 64n]],
  );
  const good = checkHelperSizes(copy(asm.jmpImm(BPF_JLE, R4, 0, 5)));
  assert.deepEqual(good, { problems: [], checked: 1 });
  // An unclamped length is unbounded above.
  const open = [
    asm.ldx(BPF_W, R4, R10, -8),
    asm.jmpImm(BPF_JGT, R4, 0, 1),
    asm.exit(),
    asm.call(189),
    asm.exit(),
  ];
  assert.equal(checkHelperSizes(open).problems[0]?.range.hi, 0xffffffffn);
});

const ringProbe = (program: string, packet: string, len: string, pass: string) => `
const Info = struct("Info", { port: u16, flags: u8 });
const ring = map("ring", new RingBuf(Info, { maxEntries: 4096 }));
export const p = ${program}(ctx) => {
  const pkt = ${packet};
  const t = pkt.transport();
  const d = pkt.data();
  if (!t || !d) return ${pass};
  ring.output(MapData.withPayload({ port: t.dest(), flags: 0 }, d.offset(), ${len}));
  return ${pass};
});
`;

test("ring buffer MapData captures bound their copy length for old verifiers (xdp, tc, cgroup_skb)", () => {
  const cases = [
    ringProbe("xdp(", "ctx", "ctx.len()", "XdpAction.Pass"),
    ringProbe("tc(", "ctx.packet()", "d.offset() + 100", "TcAction.Ok"),
    ringProbe('cgroupSkb("ingress", ', "ctx.packet()", "d.offset() + 100", "SkAction.Pass"),
  ];
  for (const src of cases) {
    for (const p of compileSource(src).programs) {
      const r = checkHelperSizes(p.insns);
      assert.equal(r.checked, 1, `${p.section}: one sized call (the capture copy)`);
      assert.deepEqual(r.problems, [], `${p.section}: sizes proven`);
    }
  }
});

test("examples/trace_http and the fixture probes: every sized helper call is bounded for old verifiers", () => {
  const root = (rel: string) => fileURLToPath(new URL(`../../../../${rel}`, import.meta.url));
  const files = [
    root("examples/trace_http/probe.ts"),
    root("examples/trace_http/probe_ringbuf.ts"),
    ...readdirSync(root("test/fixtures/probes"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => root(`test/fixtures/probes/${f}`)),
  ];
  let checked = 0;
  for (const f of files)
    for (const p of compileProbe(f).programs) {
      const r = checkHelperSizes(p.insns);
      assert.deepEqual(r.problems, [], `${f} ${p.name}`);
      checked += r.checked;
    }
  assert.ok(checked >= 5, `sized calls checked: ${checked}`);
});
