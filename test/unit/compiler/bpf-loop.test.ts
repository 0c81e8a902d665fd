// bpf_loop lowering without a kernel: which loops become bpf_loop calls, and the object's
// structure (the callback in .text as a static function, its address loaded with a .text
// relocation, its BTF prototype, func_info and line_info after linking).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseObject } from "../../../src/obj/object.js";
import { parseElf, R_BPF_64_64, STB_LOCAL, STT_FUNC, STT_SECTION } from "../../../src/obj/elf.js";
import { BPF_PSEUDO_FUNC } from "../../../src/obj/insn.js";
import { compileSource, lineOf } from "./support.js";

const IO = `const io = map("io", new ArrayMap(u64, { maxEntries: 8 }));\n`;
const prog = (body: string) =>
  `${IO}export const p = xdp((ctx: XdpContext) => {\n${body}\n  return XdpAction.Pass;\n});\n`;
const loop = (n: number, body: string) =>
  prog(`  let s = 0;\n  for (let i = 0; i < ${n}; i++) {\n${body}\n  }\n  io.set(1, toBigInt(s));`);

const isBpfLoopCall = (i: { code: number; src: number; imm: number }) =>
  i.code === 0x85 && i.src === 0 && i.imm === 181;

test("the rule: more than 1,024 iterations and a branching body", () => {
  const calls = (src: string) => compileSource(src).programs[0]!.insns.some(isBpfLoopCall);
  assert.equal(calls(loop(1025, "    if (i & 1) s += i;")), true);
  assert.equal(calls(loop(1024, "    if (i & 1) s += i;")), false, "at the threshold: kernel loop");
  assert.equal(calls(loop(60000, "    s += i;")), false, "no branch: kernel loop");
  assert.equal(calls(loop(5000, "    s = s > 10 ? s - i : s + i;")), true, "?: branches");
  assert.equal(calls(loop(5000, "    io.add(0, 1n);")), true, "a call may branch");
  assert.equal(calls(loop(5000, "    s += i && 3;")), true, "&& branches");
});

test("a body that uses the context stays a kernel loop (the callback cannot reach it)", () => {
  const c = compileSource(loop(2000, "    if (ctx.len() > i) s += 1;"));
  assert.equal(c.programs[0]!.insns.some(isBpfLoopCall), false);
  assert.equal(c.subprograms.length, 0);
});

test("object structure: static callback in .text, lddw of its address, BTF and line info", () => {
  const src = loop(30000, "    if ((i ^ s) & 1) s += i;");
  const c = compileSource(src);
  assert.deepEqual(
    c.subprograms.map((s) => s.name),
    ["p_loop0"],
  );
  const elf = parseElf(c.elf);
  const sym = elf.symbols.find((s) => s.name === "p_loop0")!;
  assert.equal(sym.type, STT_FUNC);
  assert.equal(sym.bind, STB_LOCAL);
  assert.equal(elf.sections[sym.shndx]!.name, ".text");
  // `r2 = p_loop0 ll` is relocated against the .text section symbol, imm = its byte offset
  const textIdx = elf.sections.findIndex((x) => x.name === ".text");
  const rels = elf.relocationsFor(elf.sections.findIndex((x) => x.name === "xdp"));
  assert.ok(
    rels.some(
      (r) =>
        r.type === R_BPF_64_64 &&
        elf.symbols[r.symbol]!.type === STT_SECTION &&
        elf.symbols[r.symbol]!.shndx === textIdx,
    ),
    "a relocation against the .text section symbol",
  );

  const obj = parseObject(c.elf);
  const p = obj.programs[0]!;
  const progLen = c.programs[0]!.insns.length;
  assert.equal(p.insns.length, progLen + c.subprograms[0]!.insns.length, "callback linked");
  const lddw = p.insns.findIndex((i) => i.code === 0x18 && i.src === BPF_PSEUDO_FUNC);
  assert.ok(lddw >= 0, "ld_imm64 with BPF_PSEUDO_FUNC");
  assert.equal(lddw + 1 + p.insns[lddw]!.imm, progLen, "points at the callback");
  assert.ok(p.insns.slice(lddw).some(isBpfLoopCall), "bpf_loop called after the address is loaded");
  assert.deepEqual(
    p.funcInfo.map((f) => f.insn),
    [0, progLen],
  );
  const names = p.funcInfo.map((f) => obj.btf!.types[f.typeId]!.name);
  assert.deepEqual(names, ["p", "p_loop0"]);
  const body = lineOf(src, "if ((i ^ s) & 1)");
  assert.ok(
    p.lineInfo.some((l) => l.insn >= progLen && l.line === body),
    "line info of the body inside the callback",
  );
});

test("variables only read are copied in; those written are copied back after the call", () => {
  const c = compileSource(
    prog(
      "  let s = 0;\n  let r = 7;\n  const k = toNumber(io.get(2) ?? 0n);\n  for (let i = 0; i < 3000; i++) {\n    if (i === k) s += r;\n  }\n  io.set(1, toBigInt(s));",
    ),
    { emitIr: true },
  );
  const ir = c.programs[0]!.ir!;
  // after the call only s is reloaded from the context struct
  const after = ir.slice(ir.indexOf("call 181"));
  assert.equal((after.match(/= load64 \[slot/g) ?? []).length, 1, after);
});
