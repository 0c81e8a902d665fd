// Optional chains (`a?.b.c`) and `??`: the chain's object is tested once, its value carried to a
// join in one vreg, and the pointers the verifier must see null-checked stay on the same
// register lineage (the verifier tracks null checks per register, not per value).
import ts from "typescript";
import { Code } from "../errors.js";
import { imm, reg, type Operand, type VReg } from "../ir/ir.js";
import { describeValue, type RefValue, type Value, type ViewValue } from "./values.js";
import { lowerCall } from "./intrinsics.js";
import { Expressions } from "./expressions.js";

export abstract class OptionalChains extends Expressions {
  /**
   * An optional chain `x?.a.b(…)`: the deepest unresolved `?.` link's object is tested once;
   * on the non-null path the whole chain is lowered with that object known non-null (further
   * links recurse), on the null path the chain is undefined. The two results merge like
   * `andPointer`: pointers and views into one register (0 for null), integers with a presence
   * flag for `??`.
   */
  protected override optionalChain(top: ts.Expression): Value {
    let link: ts.Node | undefined;
    for (let n: ts.Node = top; ;) {
      if (
        (ts.isPropertyAccessExpression(n) ||
          ts.isElementAccessExpression(n) ||
          ts.isCallExpression(n)) &&
        n.questionDotToken &&
        !this.resolvedLinks.has(n)
      )
        link = n;
      if (
        ts.isPropertyAccessExpression(n) ||
        ts.isElementAccessExpression(n) ||
        ts.isCallExpression(n) ||
        ts.isNonNullExpression(n)
      )
        n = n.expression;
      else break;
    }
    if (!link) return this.exprNoChain(top);
    const l = link as ts.PropertyAccessExpression | ts.ElementAccessExpression | ts.CallExpression;
    if (ts.isCallExpression(l))
      throw this.err(
        l,
        Code.Unsupported,
        "optional calls f?.() are not supported: functions are never null",
      );
    const obj = this.expr(l.expression);
    const p = obj.k === "view" ? obj.ptr : obj.k === "ref" ? obj.nullReg : undefined;
    const isNull = obj.k === "const" && (obj.v === null || obj.v === undefined);
    this.resolvedLinks.add(l);
    try {
      if (isNull) return { k: "const", v: undefined };
      const nonNull: Value = obj.k === "ref" ? { ...obj, nullable: false } : obj;
      this.preset.set(l.expression, nonNull);
      if (p === undefined) return this.expr(top); // never null: `?.` is `.`
      const some = this.newBlock();
      const none = this.newBlock();
      const join = this.newBlock();
      this.branch("ne", reg(p), imm(0), some, none);
      this.switchTo(some);
      const v = this.nested(() => this.expr(top));
      if (v.k === "void" || (v.k === "const" && (v.v === undefined || v.v === null))) {
        this.jump(join);
        this.switchTo(none);
        this.jump(join);
        this.switchTo(join);
        return v;
      }
      const c = this.carry(v, top);
      const regs = c.ops.map((o) => this.mov(o));
      this.jump(join);
      this.switchTo(none);
      regs.forEach((r) => this.emit({ op: "mov", dst: r, src: imm(0) }));
      this.jump(join);
      this.switchTo(join);
      return c.make(regs);
    } finally {
      this.resolvedLinks.delete(l);
      this.preset.delete(l.expression);
    }
  }

  /** `expr` of an optional chain whose links are all resolved. */
  protected exprNoChain(e: ts.Expression): Value {
    if (ts.isPropertyAccessExpression(e)) return this.property(e);
    if (ts.isElementAccessExpression(e)) return this.elementAccess(e);
    if (ts.isNonNullExpression(e)) return this.expr(e.expression);
    if (ts.isCallExpression(e)) {
      const v = lowerCall(this, e);
      if (v === "branched") throw new Error("internal: branched call in value context");
      return v;
    }
    throw this.err(e, Code.Unsupported, `unsupported expression (${ts.SyntaxKind[e.kind]})`);
  }

  /**
   * The registers that carry a nullable value across a join (a view's pointer and tags, a
   * reference's pointer, an integer and its presence flag) and how to rebuild it from them.
   */
  protected carry(v: Value, node: ts.Node): { ops: Operand[]; make: (r: VReg[]) => Value } {
    if (v.k === "view") {
      const aux = v.aux !== undefined ? 1 : 0;
      return {
        ops: [v.ptr, v.aux, v.aux2].filter((x) => x !== undefined).map((x) => reg(x)),
        make: (r) => {
          const out: ViewValue = { ...v, ptr: r[0]! };
          if (v.aux !== undefined) out.aux = r[1];
          if (v.aux2 !== undefined) out.aux2 = r[1 + aux];
          return out;
        },
      };
    }
    if (v.k === "ref" && v.base.kind === "reg" && v.type.kind !== "int")
      return {
        ops: [this.pointerOf(v)],
        make: (r) => ({
          ...v,
          base: { kind: "reg", id: r[0]! },
          off: 0,
          nullReg: r[0],
          nullable: true,
        }),
      };
    if (v.k === "ref" && v.type.kind === "int" && v.nullable && v.nullReg !== undefined)
      return this.carry(this.presentInt(v, node), node);
    if (v.k === "int" || v.k === "const" || (v.k === "ref" && v.type.kind === "int"))
      return {
        ops: [
          this.int(v, node),
          v.k === "int" && v.present !== undefined ? reg(v.present) : imm(1),
        ],
        make: (r) => ({ k: "int", op: reg(r[0]!), present: r[1] }),
      };
    throw this.err(
      node,
      Code.Unsupported,
      `?. and ?? cannot produce ${describeValue(v)} here; test for null with if first`,
    );
  }

  /** A scalar lookup result as an integer (0 when missing) and its presence flag. */
  protected presentInt(v: RefValue, node: ts.Node): Value {
    const r = this.vreg();
    const present = this.vreg();
    const some = this.newBlock();
    const none = this.newBlock();
    const join = this.newBlock();
    this.branch("ne", reg(v.nullReg!), imm(0), some, none);
    this.switchTo(some);
    this.emit({ op: "mov", dst: r, src: this.int({ ...v, nullable: false }, node) });
    this.emit({ op: "mov", dst: present, src: imm(1) });
    this.jump(join);
    this.switchTo(none);
    this.emit({ op: "mov", dst: r, src: imm(0) });
    this.emit({ op: "mov", dst: present, src: imm(0) });
    this.jump(join);
    this.switchTo(join);
    return { k: "int", op: reg(r), present };
  }

  /** `a ?? b`: b when a is null or undefined (a lookup missed, an optional chain stopped). */
  protected override nullish(e: ts.BinaryExpression): Value {
    const a = this.expr(e.left);
    if (a.k === "const") return a.v === null || a.v === undefined ? this.expr(e.right) : a;
    const p =
      a.k === "int" ? a.present : a.k === "ref" ? a.nullReg : a.k === "view" ? a.ptr : undefined;
    if (p === undefined) return a; // never nullish
    const some = this.newBlock();
    const none = this.newBlock();
    const join = this.newBlock();
    this.branch("ne", reg(p), imm(0), some, none);
    this.switchTo(some);
    const left: Value = a.k === "ref" ? { ...a, nullable: false } : a;
    const cl = this.carry(left, e.left);
    const regs = cl.ops.map((o) => this.mov(o));
    this.jump(join);
    this.switchTo(none);
    const b = this.nested(() => this.expr(e.right));
    const sameKind =
      left.k === "int" || (left.k === "ref" && left.type.kind === "int")
        ? b.k === "int" || b.k === "const" || (b.k === "ref" && b.type.kind === "int")
        : left.k === "ref"
          ? b.k === "ref" && b.type.size === left.type.size
          : left.k === "view" && b.k === "view" && b.view === left.view && b.n === left.n;
    if (!sameKind)
      throw this.err(
        e.right,
        Code.Unsupported,
        `the right side of ?? must be the same kind of value as the left (${describeValue(left)}), got ${describeValue(b)}`,
      );
    const cb = this.carry(b, e.right);
    regs.forEach((r, i) => this.emit({ op: "mov", dst: r, src: cb.ops[i]! }));
    this.jump(join);
    this.switchTo(join);
    const out = cl.make(regs);
    // An integer is present unless the right side may be undefined too.
    const bMaybe =
      (b.k === "int" && b.present !== undefined) ||
      (b.k === "ref" && b.nullable && b.nullReg !== undefined);
    if (out.k === "int" && !bMaybe) delete out.present;
    return out;
  }

  /**
   * `a && b` where `a` may be null (a header view, a map lookup) and `b` is a view or lookup
   * too — `const h = d && d.read(6)`: the result is b, or null when a is null.
   */
  protected override andPointer(lv: Value, e: ts.BinaryExpression): Value {
    const ptrOf = (v: Value): VReg | undefined =>
      v.k === "view" ? v.ptr : v.k === "ref" ? v.nullReg : undefined;
    const rhs = this.newBlock();
    const nullB = this.newBlock();
    const join = this.newBlock();
    this.branch("ne", reg(ptrOf(lv)!), imm(0), rhs, nullB);
    this.switchTo(rhs);
    const rv = this.nested(() => this.expr(e.right));
    const rp = ptrOf(rv);
    if (
      rp === undefined ||
      (rv.k === "ref" && (rv.base.kind !== "reg" || rv.base.id !== rp || rv.off !== 0))
    )
      throw this.err(
        e.right,
        Code.Unsupported,
        `after &&, expected a header view or a map lookup, got ${describeValue(rv)}; use if statements`,
      );
    const res = this.vreg();
    const extra =
      rv.k === "view" ? ([rv.aux, rv.aux2].filter((x) => x !== undefined) as VReg[]) : [];
    const merged = extra.map(() => this.vreg());
    this.emit({ op: "mov", dst: res, src: reg(rp) });
    extra.forEach((x, i) => this.emit({ op: "mov", dst: merged[i]!, src: reg(x) }));
    this.jump(join);
    this.switchTo(nullB);
    this.emit({ op: "mov", dst: res, src: imm(0) });
    merged.forEach((m) => this.emit({ op: "mov", dst: m, src: imm(0) }));
    this.jump(join);
    this.switchTo(join);
    if (rv.k === "view") {
      const out: Value = { ...rv, ptr: res };
      if (rv.aux !== undefined) out.aux = merged[0];
      if (rv.aux2 !== undefined) out.aux2 = merged[rv.aux !== undefined ? 1 : 0];
      return out;
    }
    return { ...(rv as RefValue), base: { kind: "reg", id: res }, nullReg: res, nullable: true };
  }

  protected override isBooleanTyped(e: ts.Expression): boolean {
    const t = this.fe.checker.getTypeAtLocation(e);
    return (
      (t.flags & ts.TypeFlags.BooleanLike) !== 0 ||
      (t.isUnion() && t.types.every((x) => (x.flags & ts.TypeFlags.BooleanLike) !== 0))
    );
  }
}
