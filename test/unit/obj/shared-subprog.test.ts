// Many programs sharing one large subprogram (issue 17: the linked copy per program made a
// 103 KB object cost 1.75 GB in `tsbpf disasm`). Parsing links nothing until a program's
// instructions are used; the disassembler lists a shared subprogram once. Sizes, not timings.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseObject, linkedParts } from "../../../src/obj/object.js";
import { disasmObject } from "../../../src/cli/disasm.js";
import { summarize } from "../../../src/cli/inspect.js";
import { needsClang, fixture } from "../../support/fixtures.js";

test("parsing links lazily; linkedParts() does not keep the copy", (t) => {
  if (!needsClang(t)) return;
  const obj = parseObject(new Uint8Array(readFileSync(fixture("shared_subprog.o"))));
  assert.equal(obj.programs.length, 256);
  const p = obj.programs[7]!;
  assert.equal(p.name, "shared_07");
  assert.equal(p.functions?.length, 2);
  const [own, shared] = p.functions!;
  assert.equal(own!.name, "shared_07");
  assert.equal(shared!.name, "shared");
  assert.ok(shared!.length > 3000, `shared subprogram has ${shared!.length} instructions`);
  const isLazy = () => Object.getOwnPropertyDescriptor(p, "insns")?.get !== undefined;
  assert.ok(isLazy(), "nothing linked by parseObject");
  const parts = linkedParts(p);
  assert.equal(parts.insns.length, own!.length + shared!.length);
  assert.ok(isLazy(), "linkedParts() keeps nothing");
  // The spec itself links on first use, the same instructions, and keeps them.
  assert.deepEqual(p.insns, parts.insns);
  assert.equal(p.insns, p.insns);
  // Every program calls into the same subprogram, with the call fixed up to its place.
  const call = parts.insns.findIndex((i) => i.code === 0x85 && i.src === 1);
  assert.equal(call + parts.insns[call]!.imm + 1, shared!.at);
});

test("disasm lists the shared subprogram once: output grows with the file, not programs × size", (t) => {
  if (!needsClang(t)) return;
  const obj = parseObject(new Uint8Array(readFileSync(fixture("shared_subprog.o"))));
  const fileInsns =
    obj.programs[0]!.functions![1]!.length +
    obj.programs.reduce((n, p) => n + p.functions![0]!.length, 0);
  const out = disasmObject(obj);
  // One line per instruction at most, plus a few per program (header, source lines, reference).
  assert.ok(out.length < 2 * fileInsns, `${out.length} lines for ${fileInsns} instructions`);
  const refs = out.filter((l) =>
    /^shared: {2}; instructions \d+-\d+, listed under shared_00$/.test(l),
  );
  assert.equal(refs.length, 255);
  // --prog lists its program whole, subprogram included.
  const one = disasmObject(obj, "shared_80");
  assert.ok(one.some((l) => l === "shared:"));
  const sub = obj.programs.find((p) => p.name === "shared_80")!.functions![1]!;
  const last = String(sub.at + sub.length - 1).padStart(4);
  assert.ok(one.includes(`${last}: (95) exit`), "the subprogram's last instruction is listed");
});

test("inspect counts linked instructions without linking and keeping every program", (t) => {
  if (!needsClang(t)) return;
  const obj = parseObject(new Uint8Array(readFileSync(fixture("shared_subprog.o"))));
  const s = summarize("shared_subprog.o", obj);
  const p = obj.programs[3]!;
  assert.equal(s.programs[3]!.instructions, linkedParts(p).insns.length);
  assert.ok(
    obj.programs.every((q) => Object.getOwnPropertyDescriptor(q, "insns")?.get !== undefined),
    "no program kept a linked copy",
  );
});
