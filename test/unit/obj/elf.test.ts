import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ObjectError } from "../../../src/obj/errors.js";
import {
  parseElf,
  R_BPF_64_64,
  SHN_ABS,
  SHT_PROGBITS,
  SHT_SYMTAB,
  STB_GLOBAL,
  STT_FUNC,
  STT_OBJECT,
} from "../../../src/obj/elf.js";
import { writeElf } from "../../../src/obj/elf-write.js";
import { buildC, hasClang, needsClang, SAMPLE_C } from "../../support/fixtures.js";

const small = writeElf({
  sections: [
    { name: "xdp", data: new Uint8Array(32), align: 8 },
    { name: ".maps", data: new Uint8Array(16), align: 8 },
  ],
  symbols: [
    { name: "prog", section: "xdp", size: 32, type: STT_FUNC, bind: STB_GLOBAL },
    { name: "m", section: ".maps", size: 16, type: STT_OBJECT, bind: STB_GLOBAL },
  ],
  relocations: { xdp: [{ offset: 8, type: R_BPF_64_64, symbol: "m" }] },
});

/** Copy `bytes` and apply `edit` to a DataView over the copy. */
function patched(
  bytes: Uint8Array,
  edit: (dv: DataView, shdr: (i: number) => number) => void,
): Uint8Array {
  const copy = bytes.slice();
  const dv = new DataView(copy.buffer);
  const shoff = Number(dv.getBigUint64(40, true));
  edit(dv, (i) => shoff + i * 64);
  return copy;
}

function rejects(bytes: Uint8Array, pattern: RegExp): ObjectError {
  let caught: unknown;
  try {
    parseElf(bytes);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ObjectError, `expected ObjectError, got ${String(caught)}`);
  assert.equal(caught.name, "ObjectError");
  assert.match(caught.message, pattern);
  return caught;
}

const indexOf = (name: string) => parseElf(small).section(name)!.index;

test("ObjectError message names what, section and offset", () => {
  const e = new ObjectError("bad map definition", { section: ".maps", offset: 0x40 });
  assert.equal(e.message, "malformed eBPF object: bad map definition (section .maps, offset 0x40)");
  assert.equal(e.section, ".maps");
  assert.equal(e.offset, 0x40);
  assert.equal(e.detail, "bad map definition");
  assert.ok(e instanceof Error);
  assert.equal(new ObjectError("x").message, "malformed eBPF object: x");
  assert.equal(ObjectError.notEbpf("machine y").message, "not an eBPF object: machine y");
});

test("parses a minimal written object", () => {
  const elf = parseElf(small);
  assert.deepEqual(
    elf.sections.map((s) => [s.index, s.name]),
    [
      [0, ""],
      [1, "xdp"],
      [2, ".relxdp"],
      [3, ".maps"],
      [4, ".symtab"],
      [5, ".strtab"],
      [6, ".shstrtab"],
    ],
  );
  assert.equal(elf.section("xdp")!.type, SHT_PROGBITS);
  assert.deepEqual(elf.relocationsFor(1), [{ offset: 8, type: R_BPF_64_64, symbol: 2 }]);
  assert.deepEqual(elf.relocationsFor(3), []);
  assert.deepEqual(
    elf.symbolsIn(1).map((s) => s.name),
    ["prog"],
  );
  assert.equal(elf.section("nope"), undefined);
});

test("rejects files that are not eBPF objects, with the reason", () => {
  rejects(new Uint8Array(0), /not an eBPF object: file too short/);
  rejects(new TextEncoder().encode("#!/bin/sh\necho hi\n"), /no ELF magic/);
  rejects(
    patched(small, (dv) => dv.setUint8(4, 1)),
    /not an eBPF object: 32-bit ELF/,
  );
  rejects(
    patched(small, (dv) => dv.setUint8(5, 2)),
    /not an eBPF object: big-endian/,
  );
  rejects(
    patched(small, (dv) => dv.setUint16(18, 62, true)),
    /^not an eBPF object: machine x86-64 \(62\)/,
  );
  rejects(
    patched(small, (dv) => dv.setUint16(18, 4000, true)),
    /machine unknown \(4000\)/,
  );
  // EM_NONE is accepted (some tools write it)
  assert.equal(parseElf(patched(small, (dv) => dv.setUint16(18, 0, true))).header.machine, 0);
});

test("rejects truncated and out-of-bounds headers", () => {
  rejects(small.subarray(0, 40), /ELF header truncated/);
  rejects(small.subarray(0, small.length - 10), /section headers? .*(do not fit|beyond)/);
  rejects(
    patched(small, (dv) => dv.setBigUint64(40, 1n << 60n, true)),
    /e_shoff .* absurdly large/,
  );
  rejects(
    patched(small, (dv) => dv.setBigUint64(40, BigInt(small.length), true)),
    /beyond the end of the file/,
  );
  rejects(
    patched(small, (dv) => dv.setUint16(60, 0xfff0, true)),
    /65520 section headers .* do not fit/,
  );
  rejects(
    patched(small, (dv) => dv.setUint16(58, 40, true)),
    /section header entry size 40/,
  );
  rejects(
    patched(small, (dv) => {
      dv.setBigUint64(40, 0n, true);
      dv.setUint16(60, 0, true);
    }),
    /no section headers \(e_shnum 0\)/,
  );
  rejects(
    patched(small, (dv) => dv.setUint16(62, 99, true)),
    /section name table index 99 out of range/,
  );
  rejects(
    patched(small, (dv) => dv.setUint16(62, 1, true)),
    /section name table .* is not SHT_STRTAB/,
  );
});

test("rejects bad section contents, links and names", () => {
  const xdp = indexOf("xdp");
  const rel = indexOf(".relxdp");
  const symtab = indexOf(".symtab");
  let e = rejects(
    patched(small, (dv, sh) => dv.setBigUint64(sh(xdp) + 32, 0x100000n, true)),
    /section 1 contents .* run past the end of the file/,
  );
  assert.ok(e.offset !== undefined);
  rejects(
    patched(small, (dv, sh) => dv.setUint32(sh(xdp), 0xffff, true)),
    /name of section 1: string offset 0xffff outside/,
  );
  e = rejects(
    patched(small, (dv, sh) => dv.setUint32(sh(rel) + 40, 77, true)),
    /sh_link 77 out of range/,
  );
  assert.equal(e.section, ".relxdp");
  rejects(
    patched(small, (dv, sh) => dv.setUint32(sh(rel) + 44, 77, true)),
    /relocation target sh_info 77 out of range/,
  );
  rejects(
    patched(small, (dv, sh) => dv.setUint32(sh(rel) + 40, xdp, true)),
    /sh_link 1 is not the symbol table/,
  );
  rejects(
    patched(small, (dv, sh) => dv.setUint32(sh(symtab) + 40, xdp, true)),
    /symbol string table .* is not SHT_STRTAB/,
  );
  rejects(
    patched(small, (dv, sh) => dv.setBigUint64(sh(symtab) + 56, 16n, true)),
    /entry size 16, expected 24/,
  );
  rejects(
    patched(small, (dv, sh) => dv.setBigUint64(sh(symtab) + 32, 25n, true)),
    /not a multiple of the entry size 24/,
  );
  rejects(
    patched(small, (dv, sh) => dv.setUint32(sh(xdp) + 4, SHT_SYMTAB, true)),
    /symbol tables; expected one|sh_link 0 out of range/,
  );
});

test("rejects bad symbols and relocations", () => {
  const elf = parseElf(small);
  const symtab = elf.section(".symtab")!;
  const rel = elf.section(".relxdp")!;
  const sym1 = symtab.offset + 24 * 1;
  rejects(
    patched(small, (dv) => dv.setUint16(sym1 + 6, 500, true)),
    /symbol 1 refers to section 500, but there are 7/,
  );
  rejects(
    patched(small, (dv) => dv.setUint32(sym1, 0x7fff, true)),
    /name of symbol 1: string offset 0x7fff outside/,
  );
  // special indices are fine
  assert.equal(
    parseElf(patched(small, (dv) => dv.setUint16(sym1 + 6, SHN_ABS, true))).symbols[1]!.shndx,
    SHN_ABS,
  );
  const e = rejects(
    patched(small, (dv) => dv.setUint32(rel.offset + 12, 9, true)),
    /relocation 0 refers to symbol 9, but there are 3/,
  );
  assert.equal(e.section, ".relxdp");
  rejects(
    patched(small, (dv) => dv.setBigUint64(rel.offset, 4096n, true)),
    /relocation 0 at 0x1000 lies outside its target section xdp/,
  );
  rejects(
    patched(small, (dv, sh) => dv.setBigUint64(sh(rel.index) + 32, 8n, true)),
    /not a multiple of the entry size 16/,
  );
});

test("parses clang-built objects: programs, maps, BTF and their relocations", (t) => {
  if (!needsClang(t)) return;
  const elf = parseElf(buildC(SAMPLE_C.xdpCounter, "xdpCounter"));
  const xdp = elf.section("xdp")!;
  assert.equal(xdp.size % 8, 0);
  for (const name of [".maps", "license", ".BTF", ".BTF.ext", ".data"])
    assert.ok(elf.section(name), name);
  const prog = elf.symbols.find((s) => s.name === "count_packets")!;
  assert.equal(prog.type, STT_FUNC);
  assert.equal(prog.shndx, xdp.index);
  assert.equal(prog.size, xdp.size);
  const relocs = elf.relocationsFor(xdp.index);
  assert.deepEqual(
    relocs.map((r) => [elf.symbols[r.symbol]!.name, r.type]),
    [
      ["counts", R_BPF_64_64],
      ["verdict", R_BPF_64_64],
    ],
  );
  assert.equal(xdp.data[relocs[0]!.offset], 0x18, "relocation points at an lddw");
});

// ---- Property tests: untrusted input never crashes, hangs or throws anything else. ----

function onlyObjectError(bytes: Uint8Array): void {
  const start = performance.now();
  try {
    parseElf(bytes);
  } catch (e) {
    if (!(e instanceof ObjectError)) throw e;
  }
  const ms = performance.now() - start;
  assert.ok(ms < 200, `parse took ${ms.toFixed(1)} ms`);
}

test("random bytes: parseElf throws only ObjectError, quickly", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1024 }), onlyObjectError), { numRuns: 500 });
  // With a valid identification prefix the parser gets past the magic and into the tables.
  const ident = small.subarray(0, 20);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 44, maxLength: 2048 }), (tail) => {
      const b = new Uint8Array(ident.length + tail.length);
      b.set(ident);
      b.set(tail, ident.length);
      onlyObjectError(b);
    }),
    { numRuns: 500 },
  );
});

/** A mutation: byte flips biased toward the header and section header table, maybe a cut. */
function mutations(base: Uint8Array) {
  const shoff = Number(new DataView(base.buffer, base.byteOffset).getBigUint64(40, true));
  const position = fc.oneof(
    fc.integer({ min: 0, max: 63 }),
    fc.integer({ min: Math.min(shoff, base.length - 1), max: base.length - 1 }),
    fc.integer({ min: 0, max: base.length - 1 }),
  );
  return fc.record({
    flips: fc.array(fc.tuple(position, fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 8,
    }),
    cut: fc.option(fc.integer({ min: 0, max: base.length }), { nil: undefined }),
  });
}

function mutate(
  base: Uint8Array,
  m: { flips: [number, number][]; cut: number | undefined },
): Uint8Array {
  const b = base.slice();
  for (const [pos, v] of m.flips) b[pos] = v;
  return m.cut === undefined ? b : b.subarray(0, m.cut);
}

test("mutated objects: parseElf throws only ObjectError", (t) => {
  const bases: Uint8Array[] = [small];
  if (hasClang() || process.env.CI === "true") {
    if (!needsClang(t)) return;
    bases.push(...Object.entries(SAMPLE_C).map(([name, src]) => buildC(src, name)));
  }
  for (const base of bases) {
    fc.assert(
      fc.property(mutations(base), (m) => onlyObjectError(mutate(base, m))),
      { numRuns: 400 },
    );
  }
});
