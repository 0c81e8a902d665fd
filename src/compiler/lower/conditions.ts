// Conditions lower straight to branches (no 0/1 materialisation): `&&`, `||`, `!`, compares and
// truthiness, each with the true and false target blocks. Signedness of `<` follows the
// operands' types (u64 fields compare unsigned), as the values they hold in TypeScript.
import ts from "typescript";
import { Code } from "../errors.js";
import { imm, reg, type Block, type CmpOp } from "../ir/ir.js";
import { NOT_CONST, foldBinary } from "../module/consteval.js";
import type { Value } from "./values.js";
import { lowerCall } from "./intrinsics.js";
import { unsignedCompare, isChainTop, CMP } from "./expressions.js";
import { OptionalChains } from "./chains.js";

export abstract class Conditions extends OptionalChains {
  /** Lower a condition into control flow: jump to `t` when truthy, `f` otherwise. */
  override cond(e: ts.Expression, t: Block, f: Block): void {
    if (ts.isParenthesizedExpression(e)) return this.cond(e.expression, t, f);
    const k = this.mod.consts.eval(e);
    if (k !== NOT_CONST && (typeof k !== "object" || k === null)) {
      this.jump(k ? t : f);
      return;
    }
    if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.ExclamationToken)
      return this.cond(e.operand, f, t);
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken) {
        const mid = this.newBlock();
        if (op === ts.SyntaxKind.AmpersandAmpersandToken) this.cond(e.left, mid, f);
        else this.cond(e.left, t, mid);
        this.switchTo(mid);
        this.nested(() => this.cond(e.right, t, f));
        return;
      }
      const cmp = CMP[op];
      if (cmp) return this.compare(e, cmp, t, f);
    }
    if (ts.isCallExpression(e) && !isChainTop(e)) {
      const handled = lowerCall(this, e, { t, f });
      if (handled === "branched") return;
      return this.truthy(handled, e, t, f);
    }
    return this.truthy(this.expr(e), e, t, f);
  }

  /** Branch on JavaScript truthiness of an already lowered value. */
  truthy(v: Value, node: ts.Node, t: Block, f: Block): void {
    if (v.k === "view") return this.branch("ne", reg(v.ptr), imm(0), t, f);
    if (v.k === "ref") {
      if (v.nullReg === undefined) {
        // An integer in memory (a field, a global): truthy when non-zero.
        if (v.type.kind === "int") return this.branch("ne", this.int(v, node), imm(0), t, f);
        return this.jump(t);
      }
      if (v.type.kind === "int") {
        // `!x` on a number is also true for 0: test the pointer, then the value.
        const nonNull = this.newBlock();
        this.branch("ne", reg(v.nullReg), imm(0), nonNull, f);
        this.switchTo(nonNull);
        return this.branch("ne", this.int({ ...v, nullable: false }, node), imm(0), t, f);
      }
      return this.branch("ne", reg(v.nullReg), imm(0), t, f);
    }
    if (v.k === "const") return this.jump(v.v ? t : f);
    if (v.k === "int") {
      if (v.op.kind === "imm") return this.jump(v.op.value !== 0n ? t : f);
      return this.branch("ne", v.op, imm(0), t, f);
    }
    if (
      v.k === "agg" ||
      v.k === "ctx" ||
      v.k === "packet" ||
      v.k === "map" ||
      v.k === "fn" ||
      v.k === "mapdata"
    )
      return this.jump(t);
    throw this.err(node, Code.Unsupported, "this expression has no truth value");
  }

  protected compare(
    e: ts.BinaryExpression,
    cmp: { op: CmpOp; neg?: boolean },
    t: Block,
    f: Block,
  ): void {
    const isNullish = (n: ts.Expression) =>
      n.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(n) && n.text === "undefined");
    const eqOp = cmp.op === "eq" || cmp.op === "ne";
    if (eqOp && (isNullish(e.left) || isNullish(e.right))) {
      const other = isNullish(e.left) ? e.right : e.left;
      const v = this.expr(other);
      const p =
        v.k === "view" ? v.ptr : v.k === "ref" ? v.nullReg : v.k === "int" ? v.present : undefined;
      const [yes, no] = cmp.op === "eq" ? [t, f] : [f, t];
      if (v.k === "const")
        return this.jump((v.v === null || v.v === undefined) === (cmp.op === "eq") ? t : f);
      if (p === undefined) return this.jump(no); // never null
      return this.branch("eq", reg(p), imm(0), yes, no);
    }
    const a = this.expr(e.left);
    const b = this.expr(e.right);
    const lit = (x: Value): string | undefined =>
      x.k === "const" && typeof x.v === "string" ? x.v : undefined;
    if (eqOp && (lit(a) !== undefined || lit(b) !== undefined)) {
      const [sv, s] = lit(a) !== undefined ? [b, lit(a)!] : [a, lit(b)!];
      if (sv.k === "const") return this.jump((sv.v === s) === (cmp.op === "eq") ? t : f);
      if (sv.k !== "int" || !sv.strings || !(s in sv.strings))
        throw this.err(
          e,
          Code.Unsupported,
          "strings exist only as literals compared with packet bytes or protocol names",
        );
      return this.branch(cmp.op, sv.op, imm(sv.strings[s]!), t, f);
    }
    const x = this.int(a, e.left);
    const y = this.int(b, e.right);
    if (x.kind === "imm" && y.kind === "imm") {
      const r = foldBinary(e.operatorToken.kind, x.value, y.value);
      return this.jump(r ? t : f);
    }
    this.branch(unsignedCompare(a, b) ? UNSIGNED[cmp.op] : cmp.op, x, y, t, f);
  }
}

const UNSIGNED: Record<CmpOp, CmpOp> = {
  eq: "eq",
  ne: "ne",
  gt: "gt",
  ge: "ge",
  lt: "lt",
  le: "le",
  sgt: "gt",
  sge: "ge",
  slt: "lt",
  sle: "le",
  set: "set",
};
