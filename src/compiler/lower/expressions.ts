// Expressions: identifiers, members (maps, globals, structs, the context), element access,
// object/array literals, binary/unary operators and assignment. Integers become vregs;
// anything else stays a typed Value (values.ts) until a use decides how to lower it.
import ts from "typescript";
import { struct, type Type } from "../../types/index.js";
import { basename } from "node:path";
import { canonical } from "../frontend/typecheck.js";
import { foreignFunction, isProbeFile } from "../module/imports.js";
import { Code } from "../errors.js";
import { imm, reg, type AluOp, type CmpOp, type Operand } from "../ir/ir.js";
import { NOT_CONST, checkShiftCount, checkUshrCount } from "../module/consteval.js";
import { describeValue, type AggValue, type RefValue, type Value } from "./values.js";
import { lowerCall } from "./intrinsics.js";
import { lowerViewProperty } from "./packet.js";
import { kernelElement, kernelMember } from "./kernel-types.js";
import { assignCtxField, assignViewField, ctxFieldRead } from "./packet-write.js";
import { Memory } from "./memory.js";
import { dynamicElement } from "./dynamic-index.js";
import { lowerLog } from "./log.js";
import { isLogCall } from "../module/log.js";

export abstract class Expressions extends Memory {
  /**
   * Any expression. Compile-time constants (consteval.ts) come back as `const` values before
   * any code is emitted, so a constant never costs a register and folds into its use.
   */
  expr(e: ts.Expression): Value {
    const pre = this.preset.get(e);
    if (pre) return pre;
    if (isChainTop(e)) return this.optionalChain(e);
    const k = this.mod.consts.eval(e);
    if (k !== NOT_CONST) {
      if (typeof k === "number" && !Number.isInteger(k))
        throw this.err(
          e,
          Code.Float,
          `floating-point value ${k}: eBPF has only integers; scale to an integer unit (e.g. per-mille)`,
        );
      return { k: "const", v: k };
    }
    if (
      ts.isParenthesizedExpression(e) ||
      ts.isNonNullExpression(e) ||
      ts.isAsExpression(e) ||
      ts.isSatisfiesExpression(e)
    )
      return this.expr(e.expression);
    if (ts.isNumericLiteral(e))
      throw this.err(e, Code.Float, `floating-point literal ${e.text}: eBPF has only integers`);
    if (ts.isIdentifier(e)) return this.identifier(e);
    if (ts.isPropertyAccessExpression(e)) return this.property(e);
    if (ts.isCallExpression(e)) {
      const v = lowerCall(this, e);
      if (v === "branched") throw new Error("internal: branched call in value context");
      return v;
    }
    if (ts.isObjectLiteralExpression(e)) return this.objectLiteral(e);
    if (ts.isBinaryExpression(e)) return this.binary(e);
    if (ts.isPrefixUnaryExpression(e) || ts.isPostfixUnaryExpression(e)) return this.unary(e);
    if (ts.isConditionalExpression(e)) {
      const t = this.newBlock();
      const f = this.newBlock();
      const join = this.newBlock();
      const r = this.vreg();
      this.cond(e.condition, t, f);
      this.switchTo(t);
      this.nested(() =>
        this.emit({ op: "mov", dst: r, src: this.int(this.expr(e.whenTrue), e.whenTrue) }),
      );
      this.jump(join);
      this.switchTo(f);
      this.nested(() =>
        this.emit({ op: "mov", dst: r, src: this.int(this.expr(e.whenFalse), e.whenFalse) }),
      );
      this.jump(join);
      this.switchTo(join);
      return { k: "int", op: reg(r) };
    }
    if (ts.isElementAccessExpression(e)) return this.elementAccess(e);
    if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return { k: "fn", decl: e };
    if (e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword)
      return { k: "const", v: e.kind === ts.SyntaxKind.TrueKeyword };
    if (ts.isAwaitExpression(e))
      throw this.err(
        e,
        Code.Unsupported,
        "await is not supported: probe code runs to completion in the kernel, nothing is asynchronous",
      );
    if (ts.isNewExpression(e))
      throw this.err(
        e,
        Code.Unsupported,
        "`new` allocates objects, which probes cannot; use object literals with a struct() layout",
      );
    if (ts.isTaggedTemplateExpression(e)) {
      if (isLogCall(this.mod.consts, e)) return lowerLog(this, e);
      throw this.err(
        e,
        Code.Unsupported,
        "tagged templates other than log.info`…` (log.error/warn/info/debug) are not supported",
      );
    }
    if (ts.isTemplateExpression(e) || ts.isStringLiteral(e))
      throw this.err(
        e,
        Code.Unsupported,
        "strings exist only as literals compared with packet bytes",
      );
    if (ts.isArrayLiteralExpression(e)) return this.arrayLiteral(e);
    if (ts.isClassExpression(e))
      throw this.err(e, Code.Unsupported, "classes are not supported in probe code");
    if (e.kind === ts.SyntaxKind.ThisKeyword)
      throw this.err(e, Code.Unsupported, "`this` is not supported in probe code");
    if (ts.isTypeOfExpression(e) || ts.isDeleteExpression(e) || ts.isVoidExpression(e))
      throw this.err(
        e,
        Code.Unsupported,
        `${ts.SyntaxKind[e.kind]} is not supported in probe code`,
      );
    throw this.err(e, Code.Unsupported, `unsupported expression (${ts.SyntaxKind[e.kind]})`);
  }

  /** The value as an integer operand (loads it when it is an integer in memory). */
  override int(v: Value, node: ts.Node): Operand {
    switch (v.k) {
      case "int":
        return v.op;
      case "const":
        if (typeof v.v === "number") {
          if (!Number.isInteger(v.v))
            throw this.err(node, Code.Float, `floating-point value ${v.v}: eBPF has only integers`);
          return imm(v.v);
        }
        if (typeof v.v === "bigint") return imm(v.v);
        if (typeof v.v === "boolean") return imm(v.v ? 1 : 0);
        if (v.v === null || v.v === undefined) return imm(0);
        break;
      case "ref":
        if (v.type.kind !== "int") break;
        // A lookup that may be null here, read as an integer: the load would go through a
        // pointer the verifier knows may be null (and rejects).
        if (v.nullable && v.nullReg !== undefined && ts.isExpression(node) && !this.isNonNull(node))
          throw this.err(
            node,
            Code.BadApi,
            "this value may be null (a map lookup that found nothing) and is used as an integer here: test it first, or write `m.get(k) ?? 0n` for 0 when absent",
          );
        return reg(this.loadInt(v.base, v.off, v.type));
      case "view":
        break;
      default:
        break;
    }
    throw this.err(node, Code.Unsupported, `expected an integer here, got ${describeValue(v)}`);
  }

  /** A name: a binding of this lowering, else a top-level map, global, constant or function. */
  protected identifier(e: ts.Identifier): Value {
    const sym0 = ts.isShorthandPropertyAssignment(e.parent)
      ? this.fe.checker.getShorthandAssignmentValueSymbol(e.parent)
      : this.fe.checker.getSymbolAtLocation(e);
    if (!sym0) throw this.err(e, Code.Unsupported, `cannot resolve ${e.text}`);
    const sym = canonical(this.fe.checker, sym0);
    const b = this.env.get(sym) ?? this.env.get(sym0);
    if (b?.pointer)
      return {
        k: "ref",
        base: { kind: "reg", id: b.pointer.reg },
        off: 0,
        type: b.pointer.type,
        nullable: !this.isNonNull(e),
        nullReg: b.pointer.reg,
        readonly: b.pointer.readonly,
      };
    if (b) return b.mutable !== undefined ? { k: "int", op: reg(b.mutable) } : b.value;
    const m = this.mod.mapBySymbol.get(sym);
    if (m) return { k: "map", map: m };
    const g = this.mod.globalBySymbol.get(sym);
    if (g) {
      const d = this.vreg();
      this.emit({ op: "global", dst: d, symbol: g.name });
      return {
        k: "ref",
        base: { kind: "reg", id: d },
        off: 0,
        type: globalWrapper(g.type),
        nullable: false,
        readonly: g.section === ".rodata",
      };
    }
    const fn = this.mod.functions.get(sym);
    if (fn) return { k: "fn", decl: fn };
    const decl = sym.valueDeclaration ?? sym.declarations?.[0];
    if (
      decl &&
      ts.isVariableDeclaration(decl) &&
      decl.initializer &&
      (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer)) &&
      isProbeFile(decl.getSourceFile())
    )
      return { k: "fn", decl: decl.initializer };
    const foreign = decl && !this.isApi(e) ? foreignFunction(decl, e.text, this.fe) : undefined;
    if (foreign) throw this.err(e, Code.Unsupported, foreign);
    if (
      decl &&
      ts.isVariableDeclaration(decl) &&
      decl.getSourceFile() !== this.fe.entry &&
      !this.isApi(e)
    )
      throw this.err(
        e,
        Code.NotConstant,
        `${e.text} (declared in ${basename(decl.getSourceFile().fileName)}) is not a compile-time constant; the probe's other modules contribute struct() layouts, constants and functions only (declare maps and globals in the entry file; a module may import them from there)`,
      );
    throw this.err(e, Code.Unsupported, `${e.text} cannot be used as a value in probe code`);
  }

  /** True when `e` names something of tsbpf/probe (resolved through imports and aliases). */
  protected isApi(e: ts.Node): boolean {
    return this.mod.consts.apiName(e) !== undefined;
  }

  protected property(e: ts.PropertyAccessExpression): Value {
    if (ts.isPrivateIdentifier(e.name))
      throw this.err(e, Code.Unsupported, "private names are not supported");
    const obj = this.expr(e.expression); // a `?.` here was resolved by optionalChain()
    const name = e.name.text;
    return this.member(obj, name, e);
  }

  /** `obj.name` by what obj is: a constant object, the context, a map, a struct in memory, a view… */
  member(obj: Value, name: string, e: ts.Node): Value {
    switch (obj.k) {
      case "const": {
        const o = obj.v as Record<string, unknown> | null | undefined;
        if (o === null || o === undefined || typeof o !== "object") break;
        if (!(name in o)) break;
        return { k: "const", v: o[name] };
      }
      case "ref":
        return this.refMember(obj, name, e);
      case "agg": {
        const f = obj.fields.get(name);
        if (!f) throw this.err(e, Code.BadApi, `the object has no field ${name}`);
        return f;
      }
      case "ctx":
        return ctxFieldRead(this, name) ?? this.ctxMember(name, e);
      case "view":
        return lowerViewProperty(this, obj, name, e);
      case "mapdata":
        if (name === "data") return obj.value;
        break;
      case "kernel":
        return kernelMember(this, obj, name, e);
      default:
        break;
    }
    throw this.err(
      e,
      Code.Unsupported,
      `cannot read .${name} of ${describeValue(obj)} in probe code`,
    );
  }

  refMember(obj: RefValue, name: string, e: ts.Node): Value {
    // The type checker forces the null test before this use (`Infer<V> | null`).
    if (obj.type.kind === "array" && name === "length") return { k: "const", v: obj.type.length };
    if (obj.type.kind !== "struct")
      throw this.err(e, Code.Unsupported, `.${name}: the value is not a struct`);
    const f = obj.type.field(name);
    if (!f) throw this.err(e, Code.BadApi, `struct ${obj.type.name} has no field ${name}`);
    return {
      k: "ref",
      base: obj.base,
      off: obj.off + f.offset,
      type: f.type,
      nullable: false,
      readonly: obj.readonly,
    };
  }

  protected elementAccess(e: ts.ElementAccessExpression): Value {
    let obj: Value;
    const x = e.expression;
    if (ts.isPropertyAccessExpression(x) && !ts.isPrivateIdentifier(x.name)) {
      // `p.arr[i]` of a kernel struct: the element is its own CO-RE access (kernel-types.ts)
      const owner = this.expr(x.expression);
      if (owner.k === "kernel")
        return kernelElement(this, owner, x.name.text, e.argumentExpression, e);
      obj = this.member(owner, x.name.text, x);
    } else obj = this.expr(x);
    const idx = this.mod.consts.eval(e.argumentExpression);
    if (obj.k === "ref" && obj.type.kind === "array") {
      if (idx === NOT_CONST) return dynamicElement(this, { ...obj, type: obj.type }, e);
      if (typeof idx !== "number" || !Number.isInteger(idx))
        throw this.err(
          e.argumentExpression,
          Code.Unsupported,
          "array indexes must be compile-time constants (dynamic indexes need bounds the compiler cannot prove yet)",
        );
      if (idx < 0 || idx >= obj.type.length)
        throw this.err(
          e.argumentExpression,
          Code.BadApi,
          `index ${idx} is outside ${obj.type.label}`,
        );
      return {
        k: "ref",
        base: obj.base,
        off: obj.off + idx * obj.type.element.size,
        type: obj.type.element,
        nullable: false,
        readonly: obj.readonly,
      };
    }
    if (typeof idx === "string") return this.member(obj, idx, e);
    throw this.err(
      e,
      Code.Unsupported,
      "dynamic property access (obj[key]) is not supported; use a field name or a constant index",
    );
  }

  protected objectLiteral(e: ts.ObjectLiteralExpression): AggValue {
    const fields = new Map<string, Value>();
    for (const p of e.properties) {
      if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) {
        fields.set(p.name.text, this.snapshot(this.expr(p.initializer), e));
      } else if (ts.isShorthandPropertyAssignment(p)) {
        fields.set(p.name.text, this.snapshot(this.expr(p.name), e));
      } else
        throw this.err(
          p,
          Code.Unsupported,
          "object literals may hold only `name: value` properties",
        );
    }
    return { k: "agg", fields, node: e };
  }

  /** `[a, b, c]`: stored element by element into an `array()` field or value. */
  protected arrayLiteral(e: ts.ArrayLiteralExpression): AggValue {
    const fields = new Map<string, Value>();
    e.elements.forEach((x, i) => {
      if (ts.isSpreadElement(x) || ts.isOmittedExpression(x))
        throw this.err(
          x,
          Code.Unsupported,
          "array literals hold values only (no spread, no holes)",
        );
      fields.set(String(i), this.snapshot(this.expr(x), x));
    });
    return { k: "agg", fields, node: e, elements: e.elements.length };
  }

  /** Freeze a value at this point (integers in memory or in let vregs are copied). */
  protected snapshot(v: Value, node: ts.Node): Value {
    if (v.k === "fn")
      throw this.err(
        node,
        Code.Unsupported,
        "functions are not values in probe code (they are inlined where called); call the function directly",
      );
    if (v.k === "int" && v.op.kind === "reg") return { k: "int", op: reg(this.mov(v.op)) };
    if (v.k === "ref" && v.type.kind === "int") return { k: "int", op: this.int(v, node) };
    return v;
  }

  /**
   * Binary operators. A compound assignment to a `let` integer updates its vreg in place (the
   * verifier then tracks one register); a compare, or `&&`/`||` on booleans, used as a value
   * becomes 0/1 through `materialize`; `&&`/`||` on other operands keep JS semantics.
   */
  protected binary(e: ts.BinaryExpression): Value {
    const op = e.operatorToken.kind;
    if (op === ts.SyntaxKind.EqualsToken) return this.assign(e.left, () => this.expr(e.right), e);
    checkShiftCount(op, e.right, this.mod.consts.eval(e.right));
    const compound = COMPOUND[op];
    const slot = compound !== undefined ? this.mutableOf(e.left) : undefined;
    if (compound !== undefined && slot !== undefined) {
      const rhs = this.int(this.expr(e.right), e.right);
      if (op === ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken)
        this.emit({ op: "mov", dst: slot, src: this.ushr(reg(slot), rhs, e.right) });
      else this.emit({ op: "alu", alu: compound, dst: slot, a: reg(slot), b: rhs });
      return { k: "int", op: reg(this.mov(reg(slot))) };
    }
    if (compound !== undefined) {
      return this.assign(
        e.left,
        () => ({ k: "int", op: this.arith(compound, this.expr(e.left), this.expr(e.right), e) }),
        e,
      );
    }
    if (
      CMP[op] ||
      op === ts.SyntaxKind.AmpersandAmpersandToken ||
      op === ts.SyntaxKind.BarBarToken
    ) {
      if (
        (op !== ts.SyntaxKind.AmpersandAmpersandToken && op !== ts.SyntaxKind.BarBarToken) ||
        this.isBooleanTyped(e)
      )
        return this.materialize(e);
      // JS semantics for non-boolean operands: a || b is a when truthy, else b.
      const lv = this.expr(e.left);
      if (
        op === ts.SyntaxKind.AmpersandAmpersandToken &&
        (lv.k === "view" || (lv.k === "ref" && lv.nullReg !== undefined))
      )
        return this.andPointer(lv, e);
      const r = this.vreg();
      const left = this.int(lv, e.left);
      this.emit({ op: "mov", dst: r, src: left });
      const rhs = this.newBlock();
      const join = this.newBlock();
      if (op === ts.SyntaxKind.BarBarToken) this.branch("ne", reg(r), imm(0), join, rhs);
      else this.branch("ne", reg(r), imm(0), rhs, join);
      this.switchTo(rhs);
      this.nested(() =>
        this.emit({ op: "mov", dst: r, src: this.int(this.expr(e.right), e.right) }),
      );
      this.jump(join);
      this.switchTo(join);
      return { k: "int", op: reg(r) };
    }
    if (op === ts.SyntaxKind.QuestionQuestionToken) return this.nullish(e);
    if (op === ts.SyntaxKind.QuestionQuestionEqualsToken)
      throw this.err(e, Code.Unsupported, "??= is not supported; write x = x ?? y");
    if (op === ts.SyntaxKind.CommaToken) {
      this.expr(e.left);
      return this.expr(e.right);
    }
    const aluOp = ARITH[op];
    if (aluOp) return { k: "int", op: this.arith(aluOp, this.expr(e.left), this.expr(e.right), e) };
    if (op === ts.SyntaxKind.AsteriskAsteriskToken)
      throw this.err(e, Code.Unsupported, "** is not supported; multiply or shift");
    if (op === ts.SyntaxKind.InstanceOfKeyword || op === ts.SyntaxKind.InKeyword)
      throw this.err(e, Code.Unsupported, `${ts.tokenToString(op)} has no meaning in probe code`);
    throw this.err(e, Code.Unsupported, `unsupported operator ${ts.tokenToString(op)}`);
  }

  /** A condition as 0/1 in a vreg. */
  materialize(e: ts.Expression): Value {
    const r = this.vreg();
    const t = this.newBlock();
    const f = this.newBlock();
    const join = this.newBlock();
    this.cond(e, t, f);
    this.switchTo(t);
    this.emit({ op: "mov", dst: r, src: imm(1) });
    this.jump(join);
    this.switchTo(f);
    this.emit({ op: "mov", dst: r, src: imm(0) });
    this.jump(join);
    this.switchTo(join);
    return { k: "int", op: reg(r) };
  }

  arith(op: AluOp, a: Value, b: Value, node: ts.Node): Operand {
    const x = this.int(a, node);
    const y = this.int(b, node);
    if (op === "rsh") return this.ushr(x, y, ts.isBinaryExpression(node) ? node.right : node);
    return reg(this.alu(op, x, y));
  }

  /**
   * `x >>> n` with JavaScript's meaning (consteval's `ushr32`): the low 32 bits of `x`, unsigned,
   * shifted by `n & 31`, written as exactly that: `(x & 0xffffffff) >> (n & 31)`. The passes
   * know masks (demanded bits drop one nobody needs, join constants absorb `& 31`); the last
   * step makes the pair one 32-bit shift (opt/alu32.ts) and a lone mask is `w = w` (isel).
   */
  protected ushr(x: Operand, n: Operand, countNode: ts.Node): Operand {
    if (n.kind === "imm") checkUshrCount(countNode, n.value);
    const by = n.kind === "imm" ? n : reg(this.alu("and", n, imm(31)));
    return reg(this.alu("rsh", reg(this.alu("and", x, imm(0xffffffffn))), by));
  }

  /** `-x ~x !x ++x x--`… on integers; `!` of a value becomes a branch pair via `materialize`. */
  protected unary(e: ts.PrefixUnaryExpression | ts.PostfixUnaryExpression): Value {
    const op = e.operator;
    if (op === ts.SyntaxKind.PlusPlusToken || op === ts.SyntaxKind.MinusMinusToken) {
      const alu = op === ts.SyntaxKind.PlusPlusToken ? "add" : "sub";
      const slot = this.mutableOf(e.operand);
      if (slot !== undefined) {
        // Update the variable's register in place; the value read is a copy (dead when unused).
        const old = this.mov(reg(slot));
        this.emit({ op: "alu", alu, dst: slot, a: reg(slot), b: imm(1) });
        return { k: "int", op: reg(ts.isPrefixUnaryExpression(e) ? this.mov(reg(slot)) : old) };
      }
      const before = this.int(this.expr(e.operand), e.operand);
      const old = before.kind === "reg" ? reg(this.mov(before)) : before;
      const updated = reg(
        this.alu(op === ts.SyntaxKind.PlusPlusToken ? "add" : "sub", old, imm(1)),
      );
      this.assign(e.operand, () => ({ k: "int", op: updated }), e);
      return { k: "int", op: ts.isPrefixUnaryExpression(e) ? updated : old };
    }
    if (ts.isPrefixUnaryExpression(e)) {
      if (op === ts.SyntaxKind.ExclamationToken) return this.materialize(e);
      const x = this.int(this.expr(e.operand), e.operand);
      if (op === ts.SyntaxKind.MinusToken) {
        const d = this.vreg();
        this.emit({ op: "neg", dst: d, a: x });
        return { k: "int", op: reg(d) };
      }
      if (op === ts.SyntaxKind.TildeToken)
        return { k: "int", op: reg(this.alu("xor", x, imm(-1))) };
      if (op === ts.SyntaxKind.PlusToken) return { k: "int", op: x };
    }
    throw this.err(e, Code.Unsupported, `unsupported operator ${ts.tokenToString(op)}`);
  }

  /** `target = value()`; returns the assigned value. */
  protected assign(target: ts.Expression, value: () => Value, node: ts.Node): Value {
    if (ts.isParenthesizedExpression(target)) return this.assign(target.expression, value, node);
    if (ts.isIdentifier(target)) {
      const sym = this.fe.checker.getSymbolAtLocation(target);
      const b = sym && this.env.get(sym);
      if (b?.pointer) {
        const v = value();
        const p = b.pointer;
        if (v.k === "const" && (v.v === null || v.v === undefined)) {
          this.emit({ op: "mov", dst: p.reg, src: imm(0) });
          return v;
        }
        if (v.k !== "ref" || v.base.kind !== "reg" || v.type.size !== p.type.size)
          throw this.err(
            node,
            Code.Unsupported,
            `${target.text} holds a reference to a ${p.type.label}; assign another reference of that layout (a lookup) or null, not ${describeValue(v)}`,
          );
        this.emit({ op: "mov", dst: p.reg, src: this.pointerOf(v) });
        return v;
      }
      if (!b || b.mutable === undefined) {
        if (b?.value.k === "agg") {
          const v = value();
          if (v.k !== "agg")
            throw this.err(
              node,
              Code.Unsupported,
              "an object variable can only be reassigned an object literal",
            );
          b.value = v;
          return v;
        }
        throw this.err(target, Code.Unsupported, `${target.text} cannot be assigned here`);
      }
      const v = value();
      this.emit({ op: "mov", dst: b.mutable, src: this.int(v, node) });
      return { k: "int", op: reg(b.mutable) };
    }
    if (ts.isPropertyAccessExpression(target) || ts.isElementAccessExpression(target)) {
      const name = ts.isPropertyAccessExpression(target) ? target.name.text : undefined;
      const objV = this.expr(target.expression);
      if (objV.k === "agg" || objV.k === "const")
        throw this.err(
          target,
          Code.Unsupported,
          "to assign fields, give the object its struct type: const x: MyStruct = { … } (MyStruct = Infer<typeof MyStructLayout>)",
        );
      if (objV.k === "view" && ts.isPropertyAccessExpression(target))
        return assignViewField(this, objV, name!, value, target, node);
      if (objV.k === "ctx" && name !== undefined)
        return assignCtxField(this, name, value, target, node);
      const place = ts.isPropertyAccessExpression(target)
        ? this.member(objV, name!, target)
        : this.elementAccess(target);
      if (place.k !== "ref") throw this.err(target, Code.Unsupported, "this cannot be assigned");
      if (place.readonly)
        throw this.err(
          target,
          Code.BadApi,
          "this memory is read-only (context and packet fields cannot be written)",
        );
      const v = value();
      this.storeValue(place, v, node);
      return v;
    }
    throw this.err(target, Code.Unsupported, "unsupported assignment target");
  }
}

export const isU64 = (v: Value): boolean =>
  (v.k === "int" && v.u64 === true) ||
  (v.k === "ref" && v.type.kind === "int" && v.type.size === 8 && !v.type.signed);

/**
 * `< <= > >=` are signed, except where an operand is a u64 (a field, map value or global of
 * type u64, or a const bound to one) and the other is a u64 too or a constant >= 0: those
 * compare unsigned, so values of 2^63 and more order as the bigints they are.
 */
export function unsignedCompare(a: Value, b: Value): boolean {
  // a compile-time constant (folded expression) >= 0; not a value that merely became an
  // immediate (an unrolled loop's counter through toBigInt stays signed)
  const ok = (v: Value) =>
    isU64(v) ||
    (v.k === "const" && (typeof v.v === "number" || typeof v.v === "bigint") && v.v >= 0);
  return (isU64(a) || isU64(b)) && ok(a) && ok(b);
}

/** The outermost node of an optional chain (`a?.b.c` as a whole). */
export function isChainTop(e: ts.Node): boolean {
  if (!ts.isOptionalChain(e)) return false;
  const p = e.parent;
  return (
    !(ts.isOptionalChain(p) && (p as ts.PropertyAccessExpression).expression === e) &&
    !(ts.isNonNullExpression(p) && ts.isOptionalChain(p))
  );
}

const wrappers = new WeakMap<Type, Type>();

/** `{ value: T }`, the shape probe code sees a global through. */
function globalWrapper(t: Type): Type {
  let w = wrappers.get(t);
  if (!w) {
    w = struct("global", { value: t });
    wrappers.set(t, w);
  }
  return w;
}

export const CMP: Partial<Record<ts.SyntaxKind, { op: CmpOp }>> = {
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: { op: "eq" },
  [ts.SyntaxKind.EqualsEqualsToken]: { op: "eq" },
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: { op: "ne" },
  [ts.SyntaxKind.ExclamationEqualsToken]: { op: "ne" },
  [ts.SyntaxKind.LessThanToken]: { op: "slt" },
  [ts.SyntaxKind.LessThanEqualsToken]: { op: "sle" },
  [ts.SyntaxKind.GreaterThanToken]: { op: "sgt" },
  [ts.SyntaxKind.GreaterThanEqualsToken]: { op: "sge" },
};

const ARITH: Partial<Record<ts.SyntaxKind, AluOp>> = {
  [ts.SyntaxKind.PlusToken]: "add",
  [ts.SyntaxKind.MinusToken]: "sub",
  [ts.SyntaxKind.AsteriskToken]: "mul",
  [ts.SyntaxKind.SlashToken]: "div",
  [ts.SyntaxKind.PercentToken]: "mod",
  [ts.SyntaxKind.AmpersandToken]: "and",
  [ts.SyntaxKind.BarToken]: "or",
  [ts.SyntaxKind.CaretToken]: "xor",
  [ts.SyntaxKind.LessThanLessThanToken]: "lsh",
  [ts.SyntaxKind.GreaterThanGreaterThanToken]: "arsh",
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken]: "rsh",
};

const COMPOUND: Partial<Record<ts.SyntaxKind, AluOp>> = {
  [ts.SyntaxKind.PlusEqualsToken]: "add",
  [ts.SyntaxKind.MinusEqualsToken]: "sub",
  [ts.SyntaxKind.AsteriskEqualsToken]: "mul",
  [ts.SyntaxKind.SlashEqualsToken]: "div",
  [ts.SyntaxKind.PercentEqualsToken]: "mod",
  [ts.SyntaxKind.AmpersandEqualsToken]: "and",
  [ts.SyntaxKind.BarEqualsToken]: "or",
  [ts.SyntaxKind.CaretEqualsToken]: "xor",
  [ts.SyntaxKind.LessThanLessThanEqualsToken]: "lsh",
  [ts.SyntaxKind.GreaterThanGreaterThanEqualsToken]: "arsh",
  [ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken]: "rsh",
};
