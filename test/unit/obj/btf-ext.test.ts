import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BtfBuilder, parseBtf } from "../../../src/obj/btf.js";
import {
  encodeBtfExt,
  kernelFuncInfo,
  kernelLineInfo,
  lineCol,
  parseBtfExt,
} from "../../../src/obj/btf-ext.js";
import { parseElf } from "../../../src/obj/elf.js";
import { ObjectError } from "../../../src/obj/errors.js";
import { buildC, needsClang, SAMPLE_C } from "../../support/fixtures.js";

function load(src: string, name: string) {
  const elf = parseElf(buildC(src, name));
  const btf = parseBtf(elf.section(".BTF")!.data);
  return { elf, btf, ext: parseBtfExt(elf.section(".BTF.ext")!.data, btf) };
}

test("clang line info: instruction indices, and text equal to the C source lines", (t) => {
  if (!needsClang(t)) return;
  const src = SAMPLE_C.subprog;
  const lines = src.split("\n");
  const { elf, ext } = load(src, "subprog");
  assert.deepEqual([...ext.lineInfo.keys()].sort(), [".text", "xdp"]);
  for (const [sec, records] of ext.lineInfo) {
    const insns = elf.section(sec)!.size / 8;
    for (const l of records) {
      assert.equal(l.text, lines[l.line - 1], `${sec} insn ${l.insn} line ${l.line}`);
      assert.ok(l.insn < insns);
      assert.ok(l.col <= l.text.length + 1);
      assert.match(l.fileName, /subprog-[0-9a-f]+\.c$/);
    }
  }
  const xdp = ext.lineInfo.get("xdp")!;
  assert.equal(
    xdp[0]!.text.trim(),
    "void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;",
  );
  assert.equal(
    ext.lineInfo.get(".text")![0]!.text,
    "static __noinline int classify(void *data, void *end) {",
  );
});

test("clang func info points at each function's first instruction and its BTF FUNC", (t) => {
  if (!needsClang(t)) return;
  const { elf, btf, ext } = load(SAMPLE_C.subprog, "subprog");
  for (const [sec, records] of ext.funcInfo) {
    const shndx = elf.section(sec)!.index;
    for (const f of records) {
      const fn = btf.typeById(f.typeId);
      assert.equal(fn.kind, "func");
      const sym = elf.symbols.find((s) => s.name === fn.name && s.shndx === shndx);
      assert.ok(sym, `symbol ${fn.name}`);
      assert.equal(f.insn, sym.value / 8);
    }
  }
  assert.equal(ext.coreRelos.size, 0);
});

function sampleExt() {
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, true);
  const proto = b.addFuncProto(int, []);
  const f1 = b.addFunc("main_prog", proto);
  const f2 = b.addFunc("helper_fn", proto, "static");
  const bytes = encodeBtfExt(
    {
      funcInfo: new Map([
        ["xdp", [{ insn: 0, typeId: f1 }]],
        [".text", [{ insn: 0, typeId: f2 }]],
      ]),
      lineInfo: new Map([
        [
          "xdp",
          [
            {
              insn: 0,
              fileName: "probe.ts",
              text: "export const p = xdp((ctx) => {",
              line: 3,
              col: 1,
            },
            { insn: 4, fileName: "probe.ts", text: "  return XdpAction.Pass;", line: 9, col: 3 },
          ],
        ],
        [".text", [{ insn: 2, fileName: "lib.ts", text: "x", line: 1023, col: 1023 }]],
      ]),
    },
    (s) => b.addString(s),
  );
  return { btf: parseBtf(b.encode()), bytes, f1, f2 };
}

test("encodeBtfExt writes byte offsets and line_col; parseBtfExt reads them back", () => {
  const { btf, bytes, f1, f2 } = sampleExt();
  const ext = parseBtfExt(bytes, btf);
  assert.deepEqual(ext.funcInfo.get("xdp"), [{ insn: 0, typeId: f1 }]);
  assert.deepEqual(ext.funcInfo.get(".text"), [{ insn: 0, typeId: f2 }]);
  const xdp = ext.lineInfo.get("xdp")!;
  assert.deepEqual(
    xdp.map((l) => [l.insn, l.fileName, l.text, l.line, l.col]),
    [
      [0, "probe.ts", "export const p = xdp((ctx) => {", 3, 1],
      [4, "probe.ts", "  return XdpAction.Pass;", 9, 3],
    ],
  );
  assert.equal(btf.stringAt(xdp[1]!.lineOff), "  return XdpAction.Pass;");
  assert.deepEqual(
    ext.lineInfo.get(".text")!.map((l) => [l.line, l.col]),
    [[1023, 1023]],
  );
  // the record for insn 4 is at byte offset 32 in the object
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const lineArea = dv.getUint32(4, true) + dv.getUint32(16, true);
  assert.equal(dv.getUint32(lineArea + 4 + 8 + 16, true), 32);
  assert.equal(lineCol(9, 3), (9 << 10) | 3);
});

test("kernel func/line info arrays use instruction indices", () => {
  const f = kernelFuncInfo([{ insn: 5, typeId: 7 }]);
  assert.deepEqual([...new Uint32Array(f.buffer)], [5, 7]);
  const l = kernelLineInfo([{ insn: 3, fileNameOff: 1, lineOff: 9, line: 2, col: 4 }]);
  assert.deepEqual([...new Uint32Array(l.buffer)], [3, 1, 9, (2 << 10) | 4]);
});

test("malformed .BTF.ext is an ObjectError naming the section", () => {
  const { btf, bytes } = sampleExt();
  const bad = (mutate: (dv: DataView) => void, re: RegExp): void => {
    const b = bytes.slice();
    mutate(new DataView(b.buffer));
    assert.throws(
      () => parseBtfExt(b, btf),
      (e: unknown) => e instanceof ObjectError && e.section === ".BTF.ext" && re.test(e.message),
    );
  };
  bad((dv) => dv.setUint16(0, 1, true), /bad .BTF.ext magic/);
  bad((dv) => dv.setUint32(4, 8, true), /header length 8/);
  bad((dv) => dv.setUint32(12, 0x10000, true), /func_info needs/);
  bad((dv) => dv.setUint32(32, 4, true), /record size 4 is invalid/);
  bad((dv) => dv.setUint32(32 + 8, 1000, true), /claims 1000 records/);
  bad((dv) => dv.setUint32(32 + 12, 3, true), /insn_off 3 is not a multiple of 8/);
  bad(
    (dv) => dv.setUint32(32 + 4, 0xfffff, true),
    /outside the string table.*referenced from .BTF.ext/,
  );
});

test("property: random and mutated .BTF.ext only ever throws ObjectError", () => {
  const { btf, bytes } = sampleExt();
  const check = (b: Uint8Array): void => {
    try {
      parseBtfExt(b, btf);
    } catch (e) {
      if (!(e instanceof ObjectError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), check), { numRuns: 500 });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.nat(bytes.length),
      (edits, cut) => {
        const b = bytes.slice(0, cut);
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        check(b);
      },
    ),
    { numRuns: 2000 },
  );
});
