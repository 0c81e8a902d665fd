// CO-RE relocation logic (src/obj/core.ts) on hand-built BTF: every relocation kind, flavours,
// missing fields (poison), bitfields, enums, type ids and sizes, load-size adjustment,
// ambiguity, module (split) BTF; a property test that random BTF and relocations only ever
// give typed errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import {
  Btf,
  BtfBuilder,
  LazyBtf,
  parseBtf,
  writeBtfHeader,
  type BtfType,
  type BtfTypes,
} from "../../../src/obj/btf.js";
import type { CoreRelo } from "../../../src/obj/btf-ext.js";
import {
  CORE_POISON_IMM,
  CoreReloKind as K,
  CoreRelocationError,
  CoreResolver,
  essentialNameLength,
  patchInsn,
  type CoreResult,
} from "../../../src/obj/core.js";
import { ObjectError } from "../../../src/obj/errors.js";
import { ByteWriter } from "../../../src/obj/byte-reader.js";
import type { Insn } from "../../../src/obj/insn.js";

const relo = (typeId: number, accessStr: string, kind: number): CoreRelo => ({
  insn: 0,
  typeId,
  accessStr,
  kind,
});

/** Resolve one relocation of `local` against `target` (as the vmlinux BTF). */
function resolve(local: Btf, target: BtfTypes, r: CoreRelo): CoreResult {
  return new CoreResolver(local, { vmlinux: target }).resolve(r);
}

const ldxw = (off: number): Insn => ({ code: 0x61, dst: 1, src: 2, off, imm: 0 }); // r1 = *(u32 *)(r2 + off)
const ldxdw = (off: number): Insn => ({ code: 0x79, dst: 1, src: 2, off, imm: 0 });
const movImm = (imm: number): Insn => ({ code: 0xb7, dst: 1, src: 0, off: 0, imm }); // r1 = imm
const lddw = (lo: number, hi: number): Insn[] => [
  { code: 0x18, dst: 1, src: 0, off: 0, imm: lo },
  { code: 0, dst: 0, src: 0, off: 0, imm: hi },
];

/**
 * Local: struct task { int pid; int tgid; long long state; char comm[16]; } and a flavour
 * task___old { long state; int gone; }; target: struct task { char comm[16]; unsigned int
 * state; int pad; int tgid; int pid; }.
 */
function taskBtfs() {
  const l = new BtfBuilder();
  const lint = l.addInt("int", 4, true);
  const llong = l.addInt("long long", 8, true);
  const lchar = l.addInt("char", 1, true);
  const lcomm = l.addArray(lchar, 16);
  const task = l.addStruct(
    "task",
    [
      { name: "pid", type: lint, bitOffset: 0 },
      { name: "tgid", type: lint, bitOffset: 32 },
      { name: "state", type: llong, bitOffset: 64 },
      { name: "comm", type: lcomm, bitOffset: 128 },
    ],
    32,
  );
  const old = l.addStruct(
    "task___old",
    [
      { name: "state", type: llong, bitOffset: 0 },
      { name: "gone", type: lint, bitOffset: 64 },
    ],
    16,
  );
  const t = new BtfBuilder();
  const tint = t.addInt("int", 4, true);
  const tuint = t.addInt("unsigned int", 4, false);
  const tchar = t.addInt("char", 1, true);
  const tcomm = t.addArray(tchar, 16);
  const ttask = t.addStruct(
    "task",
    [
      { name: "comm", type: tcomm, bitOffset: 0 },
      { name: "state", type: tuint, bitOffset: 128 },
      { name: "pad", type: tint, bitOffset: 160 },
      { name: "tgid", type: tint, bitOffset: 192 },
      { name: "pid", type: tint, bitOffset: 224 },
    ],
    32,
  );
  return { local: l.toBtf(), target: t.toBtf(), task, old, ttask };
}

test("essential names drop the last ___flavour", () => {
  assert.equal(essentialNameLength("task_struct___old"), 11);
  assert.equal(essentialNameLength("task_struct"), 11);
  assert.equal(essentialNameLength("a___b___c"), 5);
  assert.equal(essentialNameLength("a____b"), 6); // four underscores: no flavour
  assert.equal(essentialNameLength("___x"), 4);
  assert.equal(essentialNameLength(""), 0);
});

test("field byte offset follows the target layout; the load's offset is patched", () => {
  const { local, target, task } = taskBtfs();
  const r = resolve(local, target, relo(task, "0:1", K.FIELD_BYTE_OFFSET)); // task.tgid
  assert.equal(r.origVal, 4n);
  assert.equal(r.newVal, 24n);
  assert.equal(r.poison, false);
  const insns = [ldxw(4)];
  assert.equal(patchInsn(insns, 0, r), "patched");
  assert.deepEqual(insns[0], ldxw(24));
  // the same value into an ALU immediate (BPF_CORE_READ's `r2 = off`)
  const alu = [movImm(4)];
  patchInsn(alu, 0, r);
  assert.equal(alu[0]!.imm, 24);
  // into an lddw
  const wide = lddw(4, 0);
  patchInsn(wide, 0, r);
  assert.deepEqual([wide[0]!.imm, wide[1]!.imm], [24, 0]);
});

test("array element access: comm[3] and its byte size", () => {
  const { local, target, task } = taskBtfs();
  const off = resolve(local, target, relo(task, "0:3:3", K.FIELD_BYTE_OFFSET));
  assert.deepEqual([off.origVal, off.newVal], [19n, 3n]);
  assert.equal(off.newSize, 1);
  const whole = resolve(local, target, relo(task, "0:3", K.FIELD_BYTE_SIZE));
  assert.equal(whole.newVal, 16n);
  assert.throws(
    () => resolve(local, target, relo(task, "0:3:16", K.FIELD_BYTE_OFFSET)),
    CoreRelocationError,
    "index past a fixed array",
  );
});

test("flavours: task___old matches task; its missing field is poisoned, existence is 0", () => {
  const { local, target, old } = taskBtfs();
  const state = resolve(local, target, relo(old, "0:0", K.FIELD_BYTE_OFFSET));
  assert.equal(state.newVal, 16n);
  assert.match(state.target!, /\[\d+\] struct task\.state/);
  const gone = resolve(local, target, relo(old, "0:1", K.FIELD_BYTE_OFFSET));
  assert.equal(gone.poison, true);
  assert.match(gone.poisonReason!, /no struct task in the target has this field/);
  assert.equal(resolve(local, target, relo(old, "0:1", K.FIELD_EXISTS)).newVal, 0n);
  assert.equal(resolve(local, target, relo(old, "0:0", K.FIELD_EXISTS)).newVal, 1n);
  // a poisoned load becomes `call 0xbad2310`; an lddw is poisoned in both halves
  const insns = [ldxw(8)];
  assert.equal(patchInsn(insns, 0, gone), "poisoned");
  assert.deepEqual(insns[0], { code: 0x85, dst: 0, src: 0, off: 0, imm: CORE_POISON_IMM });
  const wide = lddw(8, 0);
  patchInsn(wide, 0, gone);
  assert.deepEqual(
    wide.map((i) => [i.code, i.imm]),
    [
      [0x85, 0xbad2310],
      [0x85, 0xbad2310],
    ],
  );
});

test("no type of that name in the target: fields poisoned, type relocations 0", () => {
  const l = new BtfBuilder();
  const int = l.addInt("int", 4, true);
  const s = l.addStruct("nowhere", [{ name: "x", type: int, bitOffset: 0 }], 4);
  const local = l.toBtf();
  const { target } = taskBtfs();
  const r = resolve(local, target, relo(s, "0:0", K.FIELD_BYTE_OFFSET));
  assert.equal(r.poison, true);
  assert.match(r.poisonReason!, /no type named nowhere/);
  assert.equal(resolve(local, target, relo(s, "0", K.TYPE_EXISTS)).newVal, 0n);
  assert.equal(resolve(local, target, relo(s, "0", K.TYPE_SIZE)).newVal, 0n);
  assert.equal(resolve(local, target, relo(s, "0", K.TYPE_ID_TARGET)).newVal, 0n);
});

test("load size follows the target field for unsigned ints and pointers, else poisons", () => {
  const { local, target, task } = taskBtfs();
  // local long long state (8, signed) vs target unsigned int (4): a narrowed load would
  // read a different value → poisoned
  const signed = resolve(local, target, relo(task, "0:2", K.FIELD_BYTE_OFFSET));
  assert.equal(signed.failMemszAdjust, true);
  const insns = [ldxdw(8)];
  assert.equal(patchInsn(insns, 0, signed), "poisoned");
  assert.match(signed.poisonReason!, /neither a pointer nor an unsigned integer/);

  // unsigned long long local vs unsigned int target: LDX DW → LDX W at the new offset
  const l = new BtfBuilder();
  const u64 = l.addInt("unsigned long long", 8, false);
  const s = l.addStruct("task", [{ name: "state", type: u64, bitOffset: 0 }], 8);
  const r = resolve(l.toBtf(), target, relo(s, "0:0", K.FIELD_BYTE_OFFSET));
  assert.deepEqual([r.origSize, r.newSize, r.failMemszAdjust], [8, 4, false]);
  const narrowed = [ldxdw(0)];
  assert.equal(patchInsn(narrowed, 0, r), "patched");
  assert.deepEqual(narrowed[0], ldxw(16));
});

test("bitfields: byte offset, byte size and the two shifts", () => {
  const l = new BtfBuilder();
  const lu8 = l.addInt("unsigned char", 1, false);
  const ls = l.addStruct(
    "skb",
    [
      { name: "len", type: lu8, bitOffset: 0 },
      { name: "pkt_type", type: lu8, bitOffset: 8, bitfieldSize: 3 },
    ],
    2,
  );
  const t = new BtfBuilder();
  const tu32 = t.addInt("unsigned int", 4, false);
  const ti32 = t.addInt("int", 4, true);
  t.addStruct(
    "skb",
    [
      { name: "len", type: tu32, bitOffset: 0 },
      { name: "pkt_type", type: tu32, bitOffset: 45, bitfieldSize: 3 },
      { name: "mark", type: ti32, bitOffset: 30, bitfieldSize: 4 }, // straddles an int
      { name: "wide", type: ti32, bitOffset: 62, bitfieldSize: 4 }, // straddles 8 bytes
    ],
    12,
  );
  const local = l.toBtf();
  const target = t.toBtf();
  const v = (access: string, kind: number) => resolve(local, target, relo(ls, access, kind)).newVal;
  // pkt_type: bits 45..47 of a u32 storage unit starting at byte 4
  assert.equal(v("0:1", K.FIELD_BYTE_OFFSET), 4n);
  assert.equal(v("0:1", K.FIELD_BYTE_SIZE), 4n);
  assert.equal(v("0:1", K.FIELD_LSHIFT_U64), 64n - (45n + 3n - 32n));
  assert.equal(v("0:1", K.FIELD_RSHIFT_U64), 61n);
  assert.equal(v("0:1", K.FIELD_SIGNED), 0n);
  // the local value the compiler wrote is not checked for bitfields (libbpf: ambiguous)
  const r = resolve(local, target, relo(ls, "0:1", K.FIELD_BYTE_OFFSET));
  assert.equal(r.validate, false);
  const insns = [movImm(12345)];
  patchInsn(insns, 0, r);
  assert.equal(insns[0]!.imm, 4);

  // a bitfield straddling its type's boundary is read with a wider load
  const l2 = new BtfBuilder();
  const li = l2.addInt("int", 4, true);
  const ls2 = l2.addStruct(
    "skb",
    [
      { name: "mark", type: li, bitOffset: 0, bitfieldSize: 4 },
      { name: "wide", type: li, bitOffset: 4, bitfieldSize: 4 },
    ],
    4,
  );
  const m = (kind: number) => resolve(l2.toBtf(), target, relo(ls2, "0:0", kind)).newVal;
  assert.equal(m(K.FIELD_BYTE_OFFSET), 0n);
  assert.equal(m(K.FIELD_BYTE_SIZE), 8n);
  assert.equal(m(K.FIELD_LSHIFT_U64), 64n - 34n);
  assert.equal(m(K.FIELD_RSHIFT_U64), 60n);
  assert.equal(m(K.FIELD_SIGNED), 1n);
  assert.throws(
    () => resolve(l2.toBtf(), target, relo(ls2, "0:1", K.FIELD_BYTE_OFFSET)),
    /cannot be read with one 64-bit load/,
  );
});

test("signedness of ints and enums", () => {
  const l = new BtfBuilder();
  const i = l.addInt("int", 4, true);
  const u = l.addInt("unsigned int", 4, false);
  const se = l.addEnum("sgn", [{ name: "NEG", value: -1 }], 4, true);
  const s = l.addStruct(
    "s",
    [
      { name: "a", type: i, bitOffset: 0 },
      { name: "b", type: u, bitOffset: 32 },
      { name: "c", type: se, bitOffset: 64 },
    ],
    12,
  );
  const local = l.toBtf();
  const sig = (n: number) => resolve(local, local, relo(s, `0:${n}`, K.FIELD_SIGNED)).newVal;
  assert.deepEqual([sig(0), sig(1), sig(2)], [1n, 0n, 1n]);
});

test("enum values by (flavoured) enumerator name; missing ones poisoned; enum64", () => {
  const l = new BtfBuilder();
  const le = l.addEnum("map_type___local", [
    { name: "RINGBUF___local", value: 99 },
    { name: "NOPE___local", value: 100 },
  ]);
  const l64 = l.addEnum64("big", [{ name: "HUGE", value: 1n }]);
  const t = new BtfBuilder();
  t.addEnum("map_type", [
    { name: "HASH", value: 1 },
    { name: "RINGBUF", value: 27 },
  ]);
  t.addEnum64("big", [{ name: "HUGE", value: 0x1234567890n }]);
  const local = l.toBtf();
  const target = t.toBtf();
  assert.equal(resolve(local, target, relo(le, "0", K.ENUMVAL_VALUE)).newVal, 27n);
  assert.equal(resolve(local, target, relo(le, "0", K.ENUMVAL_EXISTS)).newVal, 1n);
  assert.equal(resolve(local, target, relo(le, "1", K.ENUMVAL_EXISTS)).newVal, 0n);
  assert.equal(resolve(local, target, relo(le, "1", K.ENUMVAL_VALUE)).poison, true);
  const big = resolve(local, target, relo(l64, "0", K.ENUMVAL_VALUE));
  assert.equal(big.newVal, 0x1234567890n);
  const wide = lddw(1, 0);
  patchInsn(wide, 0, big);
  assert.deepEqual([wide[0]!.imm, wide[1]!.imm], [0x34567890, 0x12]);
  assert.throws(() => resolve(local, target, relo(le, "2", K.ENUMVAL_VALUE)), CoreRelocationError);
});

test("type relocations: local/target id, existence, size, matches", () => {
  const { local, target, task, ttask } = taskBtfs();
  assert.equal(resolve(local, target, relo(task, "0", K.TYPE_ID_LOCAL)).newVal, BigInt(task));
  assert.equal(resolve(local, target, relo(task, "0", K.TYPE_ID_TARGET)).newVal, BigInt(ttask));
  assert.equal(resolve(local, target, relo(task, "0", K.TYPE_EXISTS)).newVal, 1n);
  assert.equal(resolve(local, target, relo(task, "0", K.TYPE_SIZE)).newVal, 32n);
  // matches: local members need same-named members of matching types (int size/sign too)
  const l = new BtfBuilder();
  const int = l.addInt("int", 4, true);
  const u = l.addInt("unsigned int", 4, false);
  const ok = l.addStruct("task", [{ name: "pid", type: int, bitOffset: 0 }], 4);
  const bad = l.addStruct("task___bad", [{ name: "state", type: int, bitOffset: 0 }], 4);
  const good = l.addStruct("task___good", [{ name: "state", type: u, bitOffset: 0 }], 4);
  const lb = l.toBtf();
  assert.equal(resolve(lb, target, relo(ok, "0", K.TYPE_MATCHES)).newVal, 1n);
  assert.equal(resolve(lb, target, relo(bad, "0", K.TYPE_MATCHES)).newVal, 0n);
  assert.equal(resolve(lb, target, relo(good, "0", K.TYPE_MATCHES)).newVal, 1n);
  // existence only asks for a compatible kind: a struct of that name
  assert.equal(resolve(lb, target, relo(bad, "0", K.TYPE_EXISTS)).newVal, 1n);
  assert.throws(() => resolve(lb, target, relo(ok, "0:0", K.TYPE_EXISTS)), CoreRelocationError);
});

test("fields inside anonymous unions/structs are found at their nested offset", () => {
  const l = new BtfBuilder();
  const int = l.addInt("int", 4, true);
  const ls = l.addStruct("sock", [{ name: "proto", type: int, bitOffset: 0 }], 4);
  const t = new BtfBuilder();
  const tint = t.addInt("int", 4, true);
  const inner = t.addStruct(
    "",
    [
      { name: "a", type: tint, bitOffset: 0 },
      { name: "proto", type: tint, bitOffset: 32 },
    ],
    8,
  );
  const un = t.addUnion("", [{ name: "", type: inner, bitOffset: 0 }], 8);
  t.addStruct(
    "sock",
    [
      { name: "x", type: tint, bitOffset: 0 },
      { name: "", type: un, bitOffset: 64 },
    ],
    16,
  );
  const r = resolve(l.toBtf(), t.toBtf(), relo(ls, "0:0", K.FIELD_BYTE_OFFSET));
  assert.equal(r.newVal, 12n);
  assert.match(r.target!, /\(0:1:0:1 @ offset 12\)/);
});

test("candidates that disagree are an error; incompatible ones are skipped", () => {
  const { local, task } = taskBtfs();
  const t = new BtfBuilder();
  const int = t.addInt("int", 4, true);
  const ptr = t.addPtr(int);
  t.addStruct("task", [{ name: "tgid", type: int, bitOffset: 0 }], 4);
  t.addStruct("task___2", [{ name: "tgid", type: int, bitOffset: 64 }], 12);
  // tgid is a pointer here: not compatible with the local int, so not a candidate match
  t.addStruct("task___3", [{ name: "tgid", type: ptr, bitOffset: 128 }], 24);
  assert.throws(
    () => resolve(local, t.toBtf(), relo(task, "0:1", K.FIELD_BYTE_OFFSET)),
    (e: unknown) =>
      e instanceof CoreRelocationError && /disagree on the field's offset/.test(e.message),
  );
  const t2 = new BtfBuilder();
  const i2 = t2.addInt("int", 4, true);
  t2.addStruct("task", [{ name: "tgid", type: t2.addPtr(i2), bitOffset: 0 }], 8);
  t2.addStruct("task___x", [{ name: "tgid", type: i2, bitOffset: 32 }], 8);
  assert.equal(resolve(local, t2.toBtf(), relo(task, "0:1", K.FIELD_BYTE_OFFSET)).newVal, 4n);
});

test("an instruction that does not hold the compiled value is refused", () => {
  const { local, target, task } = taskBtfs();
  const r = resolve(local, target, relo(task, "0:1", K.FIELD_BYTE_OFFSET));
  assert.throws(() => patchInsn([ldxw(8)], 0, r), /holds 8, but the object's BTF says .* 4/);
  assert.throws(
    () => patchInsn([{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }], 0, r),
    /cannot carry/,
  );
  assert.throws(() => patchInsn([ldxw(4)], 3, r), /outside the program/);
});

test("malformed relocations are CoreRelocationErrors", () => {
  const { local, target, task } = taskBtfs();
  for (const [access, kind] of [
    ["", K.FIELD_BYTE_OFFSET],
    [":1", K.FIELD_BYTE_OFFSET],
    ["0:9", K.FIELD_BYTE_OFFSET],
    ["0:x", K.FIELD_BYTE_OFFSET],
    ["0:1", 99],
    ["1", K.TYPE_SIZE],
  ] as const)
    assert.throws(
      () => resolve(local, target, relo(task, access, kind)),
      CoreRelocationError,
      access,
    );
  assert.throws(() => resolve(local, target, relo(999, "0", K.TYPE_EXISTS)), CoreRelocationError);
});

/**
 * Split BTF as the kernel writes a module's: type ids continue after the base's, string
 * offsets after the base's string section. `types` use absolute ids; names are added here.
 */
function splitBtf(
  base: LazyBtf & { stringsLength?: number },
  baseStrLen: number,
  types: BtfType[],
): Uint8Array {
  const strs: number[] = [];
  const strOff = new Map<string, number>();
  const add = (s: string): number => {
    if (s === "") return 0;
    let o = strOff.get(s);
    if (o === undefined) {
      o = baseStrLen + strs.length;
      strOff.set(s, o);
      for (const c of Buffer.from(s)) strs.push(c);
      strs.push(0);
    }
    return o;
  };
  const tw = new ByteWriter();
  for (const t of types) {
    if (t.kind === "int") {
      tw.u32(add(t.name));
      tw.u32(1 << 24);
      tw.u32(t.size);
      tw.u32(((t.encoding & 0xf) << 24) | t.bits);
    } else if (t.kind === "struct") {
      tw.u32(add(t.name));
      tw.u32((4 << 24) | t.members.length);
      tw.u32(t.size);
      for (const m of t.members) {
        tw.u32(add(m.name));
        tw.u32(m.type);
        tw.u32(m.bitOffset);
      }
    } else throw new Error("test helper: int and struct only");
  }
  const typeBytes = tw.finish();
  const w = new ByteWriter();
  writeBtfHeader(w, [typeBytes.byteLength, strs.length]);
  w.bytes(typeBytes);
  w.bytes(Uint8Array.from(strs));
  void base;
  return w.finish();
}

test("module BTF (split): searched only when vmlinux has no candidate", () => {
  const v = new BtfBuilder();
  const vint = v.addInt("int", 4, true);
  v.addStruct("in_vmlinux", [{ name: "a", type: vint, bitOffset: 32 }], 8);
  const vbytes = v.encode();
  const vmlinux = LazyBtf.parse(vbytes, { label: "vmlinux" });
  const baseStrLen = new DataView(vbytes.buffer, vbytes.byteOffset).getUint32(20, true);
  const first = vmlinux.typeCount;
  const mod = LazyBtf.parse(
    splitBtf(vmlinux, baseStrLen, [
      {
        kind: "struct",
        name: "nf_conn",
        size: 16,
        kindFlag: false,
        members: [{ name: "mark", type: vint, bitOffset: 96, bitfieldSize: 0 }], // refers to a vmlinux type
      },
      {
        kind: "struct",
        name: "in_vmlinux",
        size: 8,
        kindFlag: false,
        members: [{ name: "a", type: first + 2, bitOffset: 0, bitfieldSize: 0 }], // refers to its own int
      },
      { kind: "int", name: "int", size: 4, encoding: 1, bitOffset: 0, bits: 32 },
    ]),
    { base: vmlinux, label: "nf_conntrack" },
  );
  assert.equal(mod.firstId, first);
  assert.equal(mod.typeById(first).name, "nf_conn");
  assert.equal(mod.typeById(vint).name, "int"); // base ids through the module
  const l = new BtfBuilder();
  const int = l.addInt("int", 4, true);
  const conn = l.addStruct("nf_conn", [{ name: "mark", type: int, bitOffset: 0 }], 4);
  const inv = l.addStruct("in_vmlinux", [{ name: "a", type: int, bitOffset: 0 }], 4);
  let asked = 0;
  const resolver = new CoreResolver(l.toBtf(), {
    vmlinux,
    modules: () => (asked++, [{ name: "nf_conntrack", btf: mod }]),
  });
  const r = resolver.resolve(relo(inv, "0:0", K.FIELD_BYTE_OFFSET));
  assert.equal(r.newVal, 4n, "vmlinux's in_vmlinux, not the module's");
  assert.equal(asked, 0);
  const m = resolver.resolve(relo(conn, "0:0", K.FIELD_BYTE_OFFSET));
  assert.equal(m.newVal, 12n);
  assert.equal(asked, 1);
  assert.equal(resolver.resolve(relo(conn, "0", K.TYPE_ID_TARGET)).newVal, BigInt(first));
});

test("LazyBtf decodes every type as parseBtf does", () => {
  const { target } = taskBtfs();
  const b = new BtfBuilder();
  const int = b.addInt("int", 4, true);
  b.addEnum64("e", [{ name: "A", value: -5n }], true);
  b.addFuncProto(int, [{ name: "x", type: int }]);
  b.addStruct("bf", [{ name: "f", type: int, bitOffset: 3, bitfieldSize: 5 }], 4);
  for (const bytes of [b.encode(), encodeOf(target)]) {
    const eager = parseBtf(bytes);
    const lazy = LazyBtf.parse(bytes);
    assert.equal(lazy.typeCount, eager.typeCount);
    for (let id = 0; id < eager.typeCount; id++)
      assert.deepEqual(lazy.typeById(id), eager.typeById(id));
    assert.deepEqual(lazy.idsWithEssentialName("task"), eager.idsWithEssentialName("task"));
    assert.throws(() => lazy.typeById(eager.typeCount), ObjectError);
  }
});

function encodeOf(btf: Btf): Uint8Array {
  const b = new BtfBuilder();
  for (let id = 1; id < btf.typeCount; id++) b.add(btf.typeById(id));
  return b.encode();
}

// ---------------------------------------------------------------- property

const NAMES = ["", "s", "s___a", "s___b", "t", "e", "x", "y"];
const arbType = (n: number): fc.Arbitrary<BtfType> => {
  const ref = fc.integer({ min: 0, max: n + 1 });
  const name = fc.constantFrom(...NAMES);
  return fc.oneof(
    fc.record({
      kind: fc.constant("int" as const),
      name: fc.constantFrom("int", "char", "u"),
      size: fc.constantFrom(1, 2, 4, 8),
      encoding: fc.constantFrom(0, 1),
      bitOffset: fc.constantFrom(0, 0, 3),
      bits: fc.constantFrom(8, 32),
    }),
    fc.record({ kind: fc.constant("ptr" as const), name: fc.constant(""), type: ref }),
    fc.record({
      kind: fc.constant("array" as const),
      name: fc.constant(""),
      type: ref,
      indexType: ref,
      nelems: fc.integer({ min: 0, max: 5 }),
    }),
    fc.record({
      kind: fc.constantFrom("struct" as const, "union" as const),
      name,
      size: fc.integer({ min: 0, max: 64 }),
      kindFlag: fc.boolean(),
      members: fc.array(
        fc.record({
          name: fc.constantFrom(...NAMES),
          type: ref,
          bitOffset: fc.integer({ min: 0, max: 512 }),
          bitfieldSize: fc.integer({ min: 0, max: 70 }),
        }),
        { maxLength: 4 },
      ),
    }),
    fc.record({
      kind: fc.constant("enum" as const),
      name,
      size: fc.constantFrom(1, 4, 8),
      signed: fc.boolean(),
      values: fc.array(
        fc.record({ name: fc.constantFrom("A", "A___x", "B"), value: fc.integer() }),
        {
          maxLength: 3,
        },
      ),
    }),
    fc.record({
      kind: fc.constantFrom("typedef" as const, "const" as const, "volatile" as const),
      name,
      type: ref,
    }),
    fc.record({ kind: fc.constant("fwd" as const), name, union: fc.boolean() }),
    fc.record({
      kind: fc.constant("func_proto" as const),
      name: fc.constant(""),
      returnType: ref,
      params: fc.array(fc.record({ name: fc.constant(""), type: ref }), { maxLength: 2 }),
    }),
  );
};
const arbBtf = fc
  .integer({ min: 1, max: 8 })
  .chain((n) => fc.array(arbType(n), { minLength: n, maxLength: n }))
  .map((types) => new Btf([{ kind: "void", name: "" }, ...types]));

test("property: random BTF and relocations give values or typed errors, never crashes", () => {
  fc.assert(
    fc.property(
      arbBtf,
      arbBtf,
      fc.array(
        fc.record({
          insn: fc.constant(0),
          typeId: fc.integer({ min: 0, max: 10 }),
          accessStr: fc.oneof(
            fc
              .array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 5 })
              .map((a) => a.join(":")),
            fc.string({ maxLength: 6 }),
          ),
          kind: fc.integer({ min: 0, max: 14 }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
      fc.constantFrom(ldxw(0), ldxdw(4), movImm(0), { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }),
      (local, target, relos, insn) => {
        const resolver = new CoreResolver(local, {
          vmlinux: target,
          modules: () => [{ name: "m", btf: target }],
        });
        for (const r of relos) {
          try {
            const res = resolver.resolve(r);
            patchInsn([{ ...insn }, { code: 0, dst: 0, src: 0, off: 0, imm: 0 }], 0, res);
          } catch (e) {
            if (!(e instanceof CoreRelocationError) && !(e instanceof ObjectError)) throw e;
          }
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test("property: LazyBtf on corrupted bytes throws only ObjectError", () => {
  const { target } = taskBtfs();
  const good = encodeOf(target);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
        maxLength: 6,
      }),
      fc.nat(good.length),
      (flips, cut) => {
        const bytes = good.slice(0, Math.max(cut, 1));
        for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
        try {
          const btf = LazyBtf.parse(bytes);
          for (let id = 0; id < btf.typeCount + 2; id++) btf.typeById(id);
          btf.idsWithEssentialName("t");
        } catch (e) {
          if (!(e instanceof ObjectError)) throw e;
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test("LazyBtf name index: every named type of the kernel's BTF is found by its essential name", (t) => {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync("/sys/kernel/btf/vmlinux"));
  } catch {
    if (process.env["CI"] === "true") assert.fail("/sys/kernel/btf/vmlinux is not readable");
    return t.skip("no /sys/kernel/btf/vmlinux");
  }
  const btf = LazyBtf.parse(bytes, { label: "vmlinux" });
  // Brute force over every type: the index (built in parse's single walk) must agree.
  const byName = new Map<string, number[]>();
  for (let id = 1; id < btf.typeCount; id++) {
    const name = btf.typeById(id).name;
    if (!name) continue;
    const e = name.slice(0, essentialNameLength(name));
    let l = byName.get(e);
    if (!l) byName.set(e, (l = []));
    l.push(id);
  }
  let checked = 0;
  for (const [e, ids] of byName) {
    if (checked++ % 7 !== 0) continue; // a seventh of the ~60k names keeps it quick
    assert.deepEqual(btf.idsWithEssentialName(e), ids, e);
  }
  assert.ok(checked > 1000);
});
