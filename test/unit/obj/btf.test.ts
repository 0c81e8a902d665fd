import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Btf,
  BtfBuilder,
  BtfFuncLinkage,
  encodeBtf,
  fixupDatasecs,
  parseBtf,
  type BtfType,
} from "../../../src/obj/btf.js";
import { parseElf } from "../../../src/obj/elf.js";
import { ObjectError } from "../../../src/obj/errors.js";
import { buildC, needsClang, SAMPLE_C } from "../../support/fixtures.js";

const MAPS_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct event { __u32 pid; __u8 comm[16]; unsigned int flag : 3, rest : 5; };
enum colour { RED = 1, GREEN = -2 };
union u { __u32 a; __u64 b; };
typedef struct event event_t;
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, event_t);
} events SEC(".maps");
volatile enum colour col = RED;
union u uu;
float f = 1.5;
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 k = 0;
  event_t *e = bpf_map_lookup_elem(&events, &k);
  if (e) e->flag = col + uu.a;
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;

function sectionOf(obj: Uint8Array, name: string): Uint8Array {
  const s = parseElf(obj).section(name);
  assert.ok(s, `object has section ${name}`);
  return s.data;
}

const isObjectError = (e: unknown): boolean => e instanceof ObjectError;

test("parses clang BTF: structs, bitfields, enums, typedefs, datasecs", (t) => {
  if (!needsClang(t)) return;
  const btf = parseBtf(sectionOf(buildC(MAPS_C, "btf-maps"), ".BTF"));

  const ev = btf.findByName("struct", "event");
  assert.ok(ev);
  assert.equal(ev.type.size, 24);
  assert.equal(ev.type.kindFlag, true);
  assert.deepEqual(
    ev.type.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]),
    [
      ["pid", 0, 0],
      ["comm", 32, 0],
      ["flag", 160, 3],
      ["rest", 163, 5],
    ],
  );
  assert.equal(btf.sizeOf(ev.type.members[1]!.type), 16);

  const td = btf.findByName("typedef", "event_t");
  assert.ok(td);
  assert.equal(btf.resolve(td.id), ev.id);
  assert.equal(btf.sizeOf(td.id), 24);

  const colour = btf.findByName("enum", "colour");
  assert.ok(colour);
  assert.equal(colour.type.signed, true);
  assert.deepEqual(colour.type.values, [
    { name: "RED", value: 1 },
    { name: "GREEN", value: -2 },
  ]);
  assert.equal(btf.findByName("union", "u")?.type.size, 8);
  assert.equal(btf.findByName("float", "float")?.type.size, 4);

  const maps = btf.findByName("datasec", ".maps");
  assert.ok(maps);
  const mapVar = btf.typeById(maps.type.vars[0]!.type);
  assert.equal(mapVar.kind, "var");
  assert.equal(mapVar.name, "events");

  const func = btf.findByName("func", "prog");
  assert.ok(func);
  assert.equal(func.type.linkage, BtfFuncLinkage.GLOBAL);
  const proto = btf.typeById(func.type.type);
  assert.equal(proto.kind, "func_proto");
  assert.equal(btf.describe(func.type.type === 0 ? 0 : ev.id), "struct event");
  assert.equal(btf.stringAt(0), "");
});

test("clang BTF round-trips through encodeBtf with the string table kept verbatim", (t) => {
  if (!needsClang(t)) return;
  for (const [name, src] of [["maps", MAPS_C], ...Object.entries(SAMPLE_C)] as const) {
    const raw = sectionOf(buildC(src, `btf-rt-${name}`), ".BTF");
    const btf = parseBtf(raw);
    const again = parseBtf(encodeBtf(btf));
    assert.deepEqual(again.types, btf.types, name);
    assert.deepEqual(again.strings, btf.strings, name);
    // Nothing changed, so the bytes are the same too.
    assert.deepEqual(encodeBtf(btf), raw, name);
  }
});

test("BtfBuilder encodes every kind and parses back to the same model", () => {
  const b = new BtfBuilder();
  const u32 = b.addInt("unsigned int", 4, false);
  const i8 = b.addInt("char", 1, true, { char: true });
  const u64 = b.addTypedef("__u64", b.addInt("unsigned long long", 8, false));
  const arr = b.addArray(i8, 16);
  const fwd = b.addFwd("later", true);
  const st = b.addStruct(
    "ev",
    [
      { name: "pid", type: u32, bitOffset: 0 },
      { name: "comm", type: arr, bitOffset: 32 },
      { name: "ts", type: u64, bitOffset: 192 },
    ],
    32,
  );
  const bits = b.addStruct(
    "bits",
    [
      { name: "a", type: u32, bitOffset: 0, bitfieldSize: 3 },
      { name: "b", type: u32, bitOffset: 3, bitfieldSize: 29 },
    ],
    4,
  );
  const un = b.addUnion("un", [{ name: "x", type: u32, bitOffset: 0 }], 4);
  const en = b.addEnum("e", [
    { name: "A", value: 0 },
    { name: "B", value: 7 },
  ]);
  const en64 = b.addEnum64("e64", [{ name: "BIG", value: -1n }], true);
  const cst = b.addConst(b.addVolatile(b.addRestrict(b.addPtr(st))));
  const tag = b.addTypeTag("user", u32);
  const fl = b.addFloat("double", 8);
  const proto = b.addFuncProto(u32, [{ name: "ctx", type: b.addPtr(0) }]);
  const fn = b.addFunc("main_prog", proto, "global");
  const dtag = b.addDeclTag("hot", fn);
  const v1 = b.addVar("counter", u64, "global");
  const v2 = b.addVar("name", arr, "static");
  const ds = b.addDatasec(
    ".data",
    [
      { type: v1, offset: 0, size: 8 },
      { type: v2, offset: 8, size: 16 },
    ],
    24,
  );

  const btf = parseBtf(b.encode());
  assert.equal(btf.types.length, b.count + 1);
  for (let id = 1; id <= b.count; id++) assert.deepEqual(btf.typeById(id), b.get(id), `id ${id}`);
  assert.equal(btf.typeById(bits).kind, "struct");
  assert.equal((btf.typeById(bits) as { kindFlag: boolean }).kindFlag, true);
  assert.equal(btf.sizeOf(st), 32);
  assert.equal(btf.sizeOf(un), 4);
  assert.equal(btf.sizeOf(en), 4);
  assert.equal(btf.sizeOf(en64), 8);
  assert.equal(btf.sizeOf(cst), 8);
  assert.equal(btf.sizeOf(v2), 16);
  assert.equal(btf.sizeOf(ds), 24);
  assert.equal(btf.sizeOf(fl), 8);
  assert.equal(btf.resolve(cst), btf.resolve(cst));
  assert.equal(btf.typeById(btf.resolve(cst)).kind, "ptr");
  assert.equal(btf.resolve(tag), u32);
  assert.equal(btf.findByName("fwd", "later")?.id, fwd);
  assert.equal(btf.findByName("decl_tag", "hot")?.id, dtag);
  assert.deepEqual(btf.findByName("enum64", "e64")?.type.values, [{ name: "BIG", value: -1n }]);
  assert.throws(() => btf.sizeOf(fn), isObjectError);
  assert.throws(() => btf.typeById(9999), /type id 9999 does not exist/);
  // the array index type is added once, like clang does
  b.addArray(u32, 2);
  assert.equal(
    parseBtf(b.encode()).types.filter((x) => x.name === "__ARRAY_SIZE_TYPE__").length,
    1,
  );
});

test("BtfBuilder rejects names the kernel would reject and dangling references", () => {
  const b = new BtfBuilder();
  const u32 = b.addInt("u32", 4, false);
  assert.throws(() => b.addStruct("has space", [], 0), /not a C identifier/);
  assert.throws(() => b.addVar("a-b", u32), /not a C identifier/);
  assert.throws(() => b.addTypedef("", u32), /not a C identifier/);
  assert.throws(() => b.addDatasec("bad name", [], 0), /datasec name/);
  b.addPtr(42);
  assert.throws(() => b.encode(), /refers to type id 42, which was never added/);
});

test("fixupDatasecs fills section sizes and variable offsets from ELF symbols", (t) => {
  if (!needsClang(t)) return;
  const elf = parseElf(buildC(SAMPLE_C.tracepoint, "tracepoint"));
  const btf = parseBtf(elf.section(".BTF")!.data);
  const sizes = new Map(elf.sections.map((s) => [s.name, s.size]));
  const offsets = new Map<string, Map<string, number>>();
  for (const sym of elf.symbols) {
    const sec = elf.sections[sym.shndx];
    if (sym.index === 0 || sec === undefined) continue;
    if (!offsets.has(sec.name)) offsets.set(sec.name, new Map());
    offsets.get(sec.name)!.set(sym.name, sym.value);
  }
  const fixed = fixupDatasecs(btf, sizes, offsets);
  assert.equal(btf.findByName("datasec", ".bss")!.type.size, 0, "input untouched");
  assert.equal(fixed.findByName("datasec", ".bss")!.type.size, 32);
  const ro = fixed.findByName("datasec", ".rodata")!.type;
  assert.equal(ro.size, elf.section(".rodata")!.size);
  const placed = ro.vars.map((v) => [fixed.typeById(v.type).name, v.offset]);
  assert.deepEqual(placed, [
    ["target_pid", 0],
    ["on_write.____fmt", 4],
  ]);
  assert.equal(fixed.findByName("datasec", "license")!.type.size, 4);
  // re-encoding a fixed Btf parses back to the fixed model
  assert.deepEqual(parseBtf(encodeBtf(fixed)).types, fixed.types);

  offsets.get(".rodata")!.delete("target_pid");
  assert.throws(() => fixupDatasecs(btf, sizes, offsets), /target_pid.*no ELF symbol/);
});

/** A valid BTF blob covering many kinds, used as the seed for mutations. */
function sampleBlob(): Uint8Array {
  const b = new BtfBuilder();
  const u32 = b.addInt("u32", 4, false);
  const p = b.addPtr(u32);
  const arr = b.addArray(u32, 3);
  const st = b.addStruct(
    "s",
    [
      { name: "a", type: p, bitOffset: 0 },
      { name: "b", type: arr, bitOffset: 64 },
    ],
    24,
  );
  b.addEnum("e", [{ name: "X", value: 1 }]);
  b.addEnum64("f", [{ name: "Y", value: 2n }]);
  const proto = b.addFuncProto(u32, [{ name: "x", type: st }]);
  b.addFunc("fn", proto);
  const v = b.addVar("v", st);
  b.addDatasec(".data", [{ type: v, offset: 0, size: 24 }], 24);
  b.addDeclTag("tag", v);
  return b.encode();
}

/** Exercise every query on every id: only ObjectError may come out. */
function useAll(btf: Btf): void {
  btf.types.forEach((_t: BtfType, id) => {
    for (const f of [() => btf.sizeOf(id), () => btf.resolve(id), () => btf.describe(id)]) {
      try {
        f();
      } catch (e) {
        if (!(e instanceof ObjectError)) throw e;
      }
    }
  });
}

test("malformed BTF headers and types are ObjectErrors naming .BTF and an offset", () => {
  const good = sampleBlob();
  const bad = (mutate: (b: Uint8Array) => void, re: RegExp): void => {
    const b = good.slice();
    mutate(b);
    assert.throws(
      () => parseBtf(b),
      (e: unknown) => e instanceof ObjectError && e.section === ".BTF" && re.test(e.message),
    );
  };
  bad((b) => (b[0] = 0), /bad BTF magic/);
  bad((b) => b.set([0xeb, 0x9f], 0), /big-endian/);
  bad((b) => (b[2] = 2), /unsupported BTF version 2/);
  bad((b) => new DataView(b.buffer).setUint32(12, 0xffff, true), /type section needs/);
  bad((b) => new DataView(b.buffer).setUint32(24 + 4, 31 << 24, true), /unknown kind 31/);
  bad((b) => new DataView(b.buffer).setUint32(24 + 16 + 8, 999, true), /refers to type id 999/);
  bad((b) => new DataView(b.buffer).setUint32(24, 1 << 30, true), /outside the string table/);
  assert.throws(() => parseBtf(good.subarray(0, 10)), /BTF header needs 24 bytes/);
});

test("property: random and mutated BTF only ever throws ObjectError", () => {
  const good = sampleBlob();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      try {
        useAll(parseBtf(bytes));
      } catch (e) {
        if (!(e instanceof ObjectError)) throw e;
      }
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.nat(good.length),
      (edits, cut) => {
        const b = good.slice(0, Math.max(cut, 24));
        for (const [at, v] of edits) if (at < b.length) b[at] = v;
        try {
          const btf = parseBtf(b);
          useAll(btf);
          parseBtf(encodeBtf(btf));
        } catch (e) {
          if (!(e instanceof ObjectError)) throw e;
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test("a self-referencing modifier chain is an error, not a hang", () => {
  const b = new BtfBuilder();
  b.addTypedef("loop", 2);
  b.addConst(1);
  const btf = parseBtf(b.encode());
  assert.throws(() => btf.resolve(1), /cycle/);
  assert.throws(() => btf.sizeOf(1), /cycle/);
});
