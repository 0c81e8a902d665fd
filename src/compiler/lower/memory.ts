// Memory writes and reads of typed values: integer fields, whole structs and arrays copied or
// zeroed, values materialised on the stack for helpers. A helper reads every byte it is given,
// so whatever lands on the stack is fully initialised (padding included), or the verifier
// rejects the read.
import ts from "typescript";
import type { Type } from "../../types/index.js";
import { Code } from "../errors.js";
import { imm, reg, type Base, type Operand, type Size, type VReg } from "../ir/ir.js";
import { swapBytes } from "../ir/eval.js";
import { ZeroBytes } from "../module/consteval.js";
import { describeValue, type RefValue, type Value } from "./values.js";
import { padding } from "./layout.js";
import { storeViewInto } from "./packet-write.js";
import { LowerState } from "./state.js";
import { copyChunk } from "./align.js";

export abstract class Memory extends LowerState {
  /** Load an integer field, sign-extending signed types and swapping network-order ones. */
  loadInt(base: Base, off: number, t: Type & { kind: "int" }): VReg {
    const size = t.size as Size;
    let r = this.load(base, off, size);
    if (t.byteOrder === "big" && size > 1) {
      const d = this.vreg();
      this.emit({ op: "bswap", dst: d, a: reg(r), bits: (size * 8) as 16 | 32 | 64 });
      r = d;
    }
    if (t.signed && size < 8) {
      const sh = 64 - size * 8;
      r = this.alu("arsh", reg(this.alu("lsh", reg(r), imm(sh))), imm(sh));
    }
    return r;
  }

  /** Store an integer of type `t`; big-endian fields are byte-swapped on the way (a constant at compile time). */
  storeInt(base: Base, off: number, t: Type & { kind: "int" }, value: Operand): void {
    let v = value;
    if (t.byteOrder === "big" && t.size > 1) {
      if (v.kind === "imm") {
        v = imm(swapBytes(v.value, t.size * 8));
      } else {
        const d = this.vreg();
        this.emit({ op: "bswap", dst: d, a: v, bits: (t.size * 8) as 16 | 32 | 64 });
        v = reg(d);
      }
    }
    this.emit({ op: "store", base, off, size: t.size as Size, value: v });
  }

  /** Write `v` into memory described by `place`, following its layout. */
  storeValue(place: RefValue, v: Value, node: ts.Node): void {
    const t = place.type;
    if (v.k === "agg" && v.elements !== undefined && t.kind !== "array")
      throw this.err(v.node, Code.Unsupported, `an array literal cannot be stored into ${t.label}`);
    if (t.kind === "int") return this.storeInt(place.base, place.off, t, this.int(v, node));
    if (t.kind === "struct" && v.k === "ref" && v.type.size === t.size) {
      this.copy(v.base, v.off, place.base, place.off, t.size);
      return;
    }
    if (
      t.kind === "struct" &&
      v.k === "const" &&
      typeof v.v === "object" &&
      v.v !== null &&
      !(v.v instanceof ZeroBytes)
    ) {
      // A constant object literal: store it field by field like any other.
      const fields = new Map<string, Value>(
        Object.entries(v.v).map(([k, x]) => [k, { k: "const", v: x }]),
      );
      return this.storeValue(place, { k: "agg", fields, node }, node);
    }
    if (t.kind === "struct") {
      if (v.k !== "agg")
        throw this.err(node, Code.Unsupported, `a ${t.name} value must be an object literal here`);
      for (const f of t.fields) {
        const fv = v.fields.get(f.name);
        const sub: RefValue = {
          k: "ref",
          base: place.base,
          off: place.off + f.offset,
          type: f.type,
          nullable: false,
          readonly: false,
        };
        if (fv === undefined) this.zero(place.base, place.off + f.offset, f.type.size);
        else this.storeValue(sub, fv, node);
      }
      for (const name of v.fields.keys())
        if (!t.field(name))
          throw this.err(node, Code.BadApi, `struct ${t.name} has no field ${name}`);
      return;
    }
    if (t.kind === "array" && v.k === "agg" && v.elements !== undefined) {
      if (v.elements !== t.length)
        throw this.err(
          v.node,
          Code.BadApi,
          `${t.label} needs ${t.length} elements, the array literal has ${v.elements}`,
        );
      for (let i = 0; i < t.length; i++) {
        const sub: RefValue = {
          k: "ref",
          base: place.base,
          off: place.off + i * t.element.size,
          type: t.element,
          nullable: false,
          readonly: false,
        };
        this.storeValue(sub, v.fields.get(String(i))!, v.node);
      }
      return;
    }
    if (v.k === "view" && storeViewInto(this, place, v, node)) return;
    // arrays: copy bytes from an IPv6 address view or another ref of the same size
    if (v.k === "view" && v.view === "ipv6addr" && t.size === 16)
      return this.copy({ kind: "reg", id: v.ptr }, 0, place.base, place.off, 16);
    if (v.k === "ref" && v.type.size === t.size) {
      this.copy(v.base, v.off, place.base, place.off, t.size);
      return;
    }
    if (
      v.k === "const" &&
      (v.v === 0 || v.v === undefined || (v.v instanceof ZeroBytes && v.v.length <= t.size))
    )
      return this.zero(place.base, place.off, t.size);
    throw this.err(node, Code.Unsupported, `cannot store ${describeValue(v)} into ${t.label}`);
  }

  /** Copy `size` bytes with the widest loads and stores that fit (eBPF has no memcpy). */
  copy(from: Base, fromOff: number, to: Base, toOff: number, size: number): void {
    let o = 0;
    while (o < size) {
      // chunks aligned on both sides: the verifier rejects misaligned stack and context access
      const n = copyChunk(this.func, from, fromOff + o, to, toOff + o, size - o);
      const x = this.load(from, fromOff + o, n);
      this.emit({ op: "store", base: to, off: toOff + o, size: n, value: reg(x) });
      o += n;
    }
  }

  /**
   * Zero `size` bytes with the widest stores the alignment allows: the verifier rejects a
   * misaligned stack store, and a helper reading the bytes needs every one initialised.
   */
  zero(base: Base, off: number, size: number): void {
    let o = 0;
    while (o < size) {
      const n = (
        size - o >= 8 && (off + o) % 8 === 0
          ? 8
          : size - o >= 4 && (off + o) % 4 === 0
            ? 4
            : size - o >= 2 && (off + o) % 2 === 0
              ? 2
              : 1
      ) as Size;
      this.emit({ op: "store", base, off: off + o, size: n, value: imm(0) });
      o += n;
    }
  }

  /** Put a value of layout `t` on the stack (zeroed padding); returns the slot. */
  materializeOnStack(v: Value, t: Type, node: ts.Node, what: string, temp = false): number {
    const slot = this.slot(t.size, what, node, temp);
    const base: Base = { kind: "slot", slot };
    if (t.kind === "int") {
      this.storeInt(base, 0, t, this.int(v, node));
      return slot;
    }
    // storeValue writes every field (absent ones as zero); only padding is left, and a helper
    // reading the struct needs it initialised too.
    for (const [start, end] of padding(t)) this.zero(base, start, end - start);
    this.storeValue({ k: "ref", base, off: 0, type: t, nullable: false, readonly: false }, v, node);
    return slot;
  }
}
