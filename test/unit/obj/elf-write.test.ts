import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeElf, type ElfWriteSpec } from "../../../src/obj/elf-write.js";
import {
  parseElf,
  R_BPF_64_32,
  R_BPF_64_64,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_REL,
  SHT_SYMTAB,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
} from "../../../src/obj/elf.js";
import { asm, encodeInsns, R0, R1 } from "../../../src/obj/insn.js";
import { needsObjdump, objdump } from "../../support/fixtures.js";

const code = encodeInsns([
  ...asm.lddw(R1, 0n), // map reference, as clang emits it: plain lddw + R_BPF_64_64
  asm.callLocal(4), // slot 2 → helper_fn at slot 7
  ...asm.lddw(R1, 0n),
  asm.mov64Imm(R0, 2),
  asm.exit(),
  asm.mov64Imm(R0, 0),
  asm.exit(),
]);

const spec: ElfWriteSpec = {
  fileName: "probe.ts",
  sections: [
    { name: "xdp", flags: SHF_ALLOC | SHF_EXECINSTR, data: code, align: 8 },
    { name: ".data", flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array([1, 0, 0, 0]), align: 4 },
    { name: ".bss", type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, size: 64, align: 8 },
    { name: ".maps", flags: SHF_ALLOC | SHF_WRITE, data: new Uint8Array(32), align: 8 },
    {
      name: "license",
      flags: SHF_ALLOC | SHF_WRITE,
      data: new TextEncoder().encode("GPL\0"),
      align: 1,
    },
  ],
  symbols: [
    {
      name: "trace_http",
      section: "xdp",
      value: 0,
      size: code.byteLength,
      type: STT_FUNC,
      bind: STB_GLOBAL,
    },
    { name: "helper_fn", section: "xdp", value: 56, size: 16, type: STT_FUNC, bind: STB_LOCAL },
    { name: "requests", section: ".maps", size: 32, type: STT_OBJECT, bind: STB_GLOBAL },
    { name: "_license", section: "license", size: 4, type: STT_OBJECT, bind: STB_GLOBAL },
    { name: "some_extern", bind: STB_GLOBAL },
  ],
  relocations: {
    xdp: [
      { offset: 0, type: R_BPF_64_64, symbol: "requests" },
      { offset: 16, type: R_BPF_64_32, symbol: "helper_fn" },
      { offset: 24, type: R_BPF_64_64, symbol: ".data" },
    ],
  },
};

test("writeElf output parses back to the same sections, symbols and relocations", () => {
  const elf = parseElf(writeElf(spec));
  assert.equal(elf.header.machine, 247);
  const xdp = elf.section("xdp")!;
  assert.deepEqual(xdp.data, code);
  assert.equal(xdp.flags, SHF_ALLOC | SHF_EXECINSTR);
  assert.equal(xdp.addralign, 8);
  assert.equal(xdp.offset % 8, 0);
  const bss = elf.section(".bss")!;
  assert.equal(bss.type, SHT_NOBITS);
  assert.equal(bss.size, 64);
  assert.equal(bss.data.byteLength, 0);
  assert.equal(new TextDecoder().decode(elf.section("license")!.data), "GPL\0");

  const rel = elf.section(".relxdp")!;
  assert.equal(rel.type, SHT_REL);
  assert.equal(rel.info, xdp.index);
  assert.equal(rel.index, xdp.index + 1, "placed right after its target like clang");
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB)!;
  assert.equal(rel.link, symtab.index);

  // locals first; sh_info is the first global
  const firstGlobal = elf.symbols.findIndex((s) => s.bind !== STB_LOCAL);
  assert.equal(symtab.info, firstGlobal);
  assert.ok(elf.symbols.slice(firstGlobal).every((s) => s.bind !== STB_LOCAL));

  const byName = (n: string) => elf.symbols.find((s) => s.name === n)!;
  assert.deepEqual(
    { ...byName("trace_http"), index: 0 },
    {
      index: 0,
      name: "trace_http",
      value: 0,
      size: code.byteLength,
      type: STT_FUNC,
      bind: STB_GLOBAL,
      visibility: 0,
      shndx: xdp.index,
    },
  );
  assert.equal(byName("helper_fn").value, 56);
  assert.equal(byName("some_extern").shndx, SHN_UNDEF);

  const relocs = elf.relocationsFor(xdp.index);
  assert.equal(relocs.length, 3);
  assert.equal(elf.symbols[relocs[0]!.symbol]!.name, "requests");
  assert.equal(relocs[0]!.type, R_BPF_64_64);
  assert.equal(elf.symbols[relocs[1]!.symbol]!.name, "helper_fn");
  assert.equal(relocs[1]!.type, R_BPF_64_32);
  const secSym = elf.symbols[relocs[2]!.symbol]!;
  assert.equal(secSym.type, STT_SECTION);
  assert.equal(secSym.shndx, elf.section(".data")!.index);
  assert.equal(relocs[2]!.addend, undefined);
});

test("writeElf with no symbols or relocations still makes a valid object", () => {
  const elf = parseElf(
    writeElf({ sections: [{ name: "license", data: new Uint8Array([0x47, 0]) }] }),
  );
  assert.deepEqual(
    elf.sections.map((s) => s.name),
    ["", "license", ".shstrtab"],
  );
  assert.deepEqual(elf.symbols, []);
});

test("writeElf rejects inconsistent specs with a message naming the culprit", () => {
  assert.throws(
    () => writeElf({ sections: [{ name: "a" }, { name: "a" }] }),
    /duplicate section a/,
  );
  assert.throws(
    () =>
      writeElf({
        sections: [{ name: "a", data: new Uint8Array(8) }],
        relocations: { a: [{ offset: 0, type: 1, symbol: "nope" }] },
      }),
    /unknown symbol nope/,
  );
  assert.throws(
    () => writeElf({ sections: [{ name: "a", data: new Uint8Array(8) }], relocations: { b: [] } }),
    /unknown section b/,
  );
  assert.throws(
    () =>
      writeElf({
        sections: [{ name: "a", data: new Uint8Array(8) }],
        symbols: [{ name: "s", section: "zz" }],
      }),
    /symbol s names unknown section zz/,
  );
  assert.throws(
    () =>
      writeElf({
        sections: [{ name: "a", data: new Uint8Array(8) }],
        symbols: [{ name: "s" }],
        relocations: { a: [{ offset: 8, type: 1, symbol: "s" }] },
      }),
    /outside section a/,
  );
});

test("llvm-objdump-19 accepts the written object", (t) => {
  if (!needsObjdump(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-elfw-"));
  try {
    const path = join(dir, "probe.o");
    writeFileSync(path, writeElf(spec));
    const out = objdump(path, ["-h", "-t", "-r"]);
    assert.match(out, /file format elf64-bpf/);
    const size = code.byteLength.toString(16);
    assert.match(out, new RegExp(`\\bxdp\\s+${size.padStart(8, "0")}\\b`));
    assert.match(out, /\.bss\s+00000040\b.*BSS/);
    assert.match(out, new RegExp(`g\\s+F xdp\\s+${size.padStart(16, "0")} trace_http`));
    assert.match(out, /l\s+F xdp\s+0000000000000010 helper_fn/);
    assert.match(out, /RELOCATION RECORDS FOR \[xdp\]:/);
    assert.match(out, /0000000000000000 R_BPF_64_64\s+requests/);
    assert.match(out, /0000000000000010 R_BPF_64_32\s+helper_fn/);
    assert.match(out, /0000000000000018 R_BPF_64_64\s+\.data/);
    const dis = objdump(path, ["-d", "--no-show-raw-insn"]);
    assert.match(dis, /r1 = 0x0 ll/);
    assert.match(dis, /call 0x4/);
    assert.match(dis, /0000000000000038 <helper_fn>:\n\s+7:\sr0 = 0x0/);
    assert.match(dis, /exit/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
