// Statements and bindings: blocks, if/return/break/continue, let/const with destructuring,
// pointer bindings (a `let` holding a map value or null) and `switch`. A `let` integer is one
// vreg reassigned in place; a `const` is whatever Value its initialiser lowered to.
import ts from "typescript";
import type { Type } from "../../types/index.js";
import { Code } from "../errors.js";
import { imm, reg, type Block, type Operand, type VReg } from "../ir/ir.js";
import { VOID, describeValue, type RefValue, type Value } from "./values.js";
import { isU64 } from "./expressions.js";
import { Conditions } from "./conditions.js";

export abstract class Statements extends Conditions {
  statements(list: readonly ts.Statement[]): void {
    for (const s of list) {
      if (!this.isOpen()) this.switchTo(this.newBlock()); // dead code: dropped by DCE
      this.statement(s);
    }
  }

  statement(s: ts.Statement): void {
    this.setLoc(s);
    if (ts.isBlock(s)) return this.statements(s.statements);
    if (ts.isVariableStatement(s)) return this.variables(s.declarationList);
    if (ts.isExpressionStatement(s)) {
      this.expr(s.expression);
      return;
    }
    if (ts.isIfStatement(s)) {
      const t = this.newBlock();
      const f = this.newBlock();
      const join = this.newBlock();
      this.cond(s.expression, t, s.elseStatement ? f : join);
      this.switchTo(t);
      this.nested(() => this.statement(s.thenStatement));
      this.jump(join);
      if (s.elseStatement) {
        this.switchTo(f);
        this.nested(() => this.statement(s.elseStatement!));
        this.jump(join);
      } else {
        this.switchTo(f);
        this.terminate({ op: "ret", value: imm(0) }); // never reached: no predecessors
      }
      this.switchTo(join);
      return;
    }
    if (ts.isReturnStatement(s)) {
      const frame = this.inlines[this.inlines.length - 1];
      const v = s.expression ? this.expr(s.expression) : VOID;
      if (frame) {
        if (v.k !== "void")
          this.emit({ op: "mov", dst: frame.result, src: this.int(v, s.expression!) });
        this.jump(frame.exit);
      } else if (this.loopBody) {
        this.returnFromLoopBody(v.k === "void" ? undefined : this.int(v, s.expression!), s);
      } else if (this.subName !== undefined) {
        this.terminate({ op: "ret", value: v.k === "void" ? imm(0) : this.int(v, s.expression!) });
      } else {
        if (!s.expression)
          throw this.err(s, Code.BadApi, "a program must return a value (an action or a number)");
        this.terminate({ op: "ret", value: this.int(v, s.expression) });
      }
      return;
    }
    if (ts.isForStatement(s)) return this.forLoop(s);
    if (ts.isBreakStatement(s) || ts.isContinueStatement(s)) {
      if (s.label) throw this.err(s, Code.Unsupported, "labelled break/continue is not supported");
      const loop = this.loops[this.loops.length - 1];
      if (!loop) throw this.err(s, Code.Unsupported, "break/continue outside a loop or switch");
      this.jump(ts.isBreakStatement(s) ? loop.brk : loop.cont);
      return;
    }
    if (ts.isSwitchStatement(s)) return this.switchStatement(s);
    if (ts.isFunctionDeclaration(s)) {
      if (!s.name || !s.body)
        throw this.err(s, Code.Unsupported, "local functions need a name and a body");
      this.bind(s.name, { k: "fn", decl: s });
      return;
    }
    if (ts.isEmptyStatement(s)) return;
    if (ts.isWhileStatement(s) || ts.isDoStatement(s))
      throw this.err(
        s,
        Code.UnboundedLoop,
        "while/do loops have no bound the verifier can prove; use for (let i = 0; i < N; i++) with a constant N and break",
      );
    if (ts.isForOfStatement(s) || ts.isForInStatement(s))
      throw this.err(
        s,
        Code.Unsupported,
        "for…of/for…in iterate runtime collections, which probes do not have; use for (let i = 0; i < N; i++)",
      );
    if (ts.isTryStatement(s) || ts.isThrowStatement(s))
      throw this.err(
        s,
        Code.Unsupported,
        "exceptions do not exist in eBPF; return an error code or an action instead of try/catch/throw",
      );
    if (ts.isClassDeclaration(s))
      throw this.err(
        s,
        Code.Unsupported,
        "classes are not supported in probe code; use struct() layouts and functions",
      );
    if (ts.isLabeledStatement(s)) throw this.err(s, Code.Unsupported, "labels are not supported");
    throw this.err(s, Code.Unsupported, `unsupported statement (${ts.SyntaxKind[s.kind]})`);
  }

  variables(list: ts.VariableDeclarationList): void {
    const mutable = (list.flags & ts.NodeFlags.Const) === 0;
    if (!(list.flags & (ts.NodeFlags.Const | ts.NodeFlags.Let)))
      throw this.err(list, Code.Unsupported, "use const or let; var is not supported");
    for (const d of list.declarations) {
      if (!ts.isIdentifier(d.name)) {
        if (!d.initializer) throw this.err(d, Code.BadApi, "destructuring needs an initializer");
        const init = d.initializer;
        // (an array pattern is reported before its initializer is looked at)
        const v = ts.isArrayBindingPattern(d.name) ? VOID : this.expr(init);
        this.destructure(d.name, v, mutable);
        continue;
      }
      if (!d.initializer) {
        if (!mutable) throw this.err(d, Code.BadApi, "const needs an initializer");
        const v = this.vreg();
        this.emit({ op: "mov", dst: v, src: imm(0) });
        this.bind(d.name, { k: "int", op: reg(v) }, v);
        continue;
      }
      const layout = d.type ? this.layoutOf(d.type) : undefined;
      if (layout && layout.kind !== "int") {
        // A struct-typed local lives in its own stack slot: field assignments are stores,
        // correct on every path.
        const init = this.expr(d.initializer);
        const slot = this.materializeOnStack(init, layout, d, `${d.name.text} (${layout.label})`);
        this.bind(d.name, {
          k: "ref",
          base: { kind: "slot", slot },
          off: 0,
          type: layout,
          nullable: false,
          readonly: false,
        });
        continue;
      }
      this.bindValue(d.name, this.expr(d.initializer), mutable, d, d.initializer);
    }
  }

  /**
   * `const { a, b: c, inner: { x } } = v`: each name is bound to the member, as if declared
   * on its own (`const a = v.a`), so integers are copied at this point.
   */
  protected destructure(pattern: ts.BindingName, v: Value, mutable: boolean): void {
    if (ts.isIdentifier(pattern)) return this.bindValue(pattern, v, mutable, pattern.parent);
    if (ts.isArrayBindingPattern(pattern))
      throw this.err(
        pattern,
        Code.Unsupported,
        "array destructuring is not supported (probes have no arrays of values); use indexes",
      );
    for (const el of pattern.elements) {
      if (el.dotDotDotToken)
        throw this.err(
          el,
          Code.Unsupported,
          "rest elements (...) are not supported in destructuring",
        );
      if (el.initializer)
        throw this.err(
          el.initializer,
          Code.Unsupported,
          "defaults in destructuring are not supported: struct fields and header fields are never undefined",
        );
      const key = el.propertyName ?? el.name;
      if (!ts.isIdentifier(key) && !ts.isStringLiteral(key))
        throw this.err(key, Code.Unsupported, "destructure fields by name");
      this.destructure(el.name, this.member(v, key.text, el), mutable);
    }
  }

  /** Bind a declared name (`const`/`let`, or a destructured field) to a lowered value. */
  protected bindValue(
    name: ts.Identifier,
    v0: Value,
    mutable: boolean,
    d: ts.Node,
    init?: ts.Expression,
  ): void {
    let v = v0;
    const at = init ?? d;
    // A map lookup the checker has already narrowed to non-null reads like any value.
    if (v.k === "ref" && v.nullable && init && this.isNonNull(init)) v = { ...v, nullable: false };
    if (mutable) {
      if (v.k === "int" && v.present !== undefined)
        throw this.err(
          d,
          Code.Unsupported,
          "this let would hold a value that may be undefined (an optional chain); give it a default with ?? (let x = a?.b ?? 0)",
        );
      const typeNode = ts.isVariableDeclaration(d) ? d.type : undefined;
      const nullLayout =
        v.k === "const" && v.v === null && typeNode ? this.nullableLayoutOf(typeNode) : undefined;
      if (nullLayout) {
        // `let c: Counter | null = null`: a pointer that starts null.
        const r = this.vreg();
        this.emit({ op: "mov", dst: r, src: imm(0) });
        this.bindPointer(name, r, nullLayout, false);
        return;
      }
      if (
        v.k === "int" ||
        v.k === "const" ||
        (v.k === "ref" && v.type.kind === "int" && !v.nullable)
      ) {
        const r = this.vreg();
        this.emit({ op: "mov", dst: r, src: this.int(v, at) });
        this.bind(name, { k: "int", op: reg(r) }, r);
        return;
      }
      if (v.k === "agg") {
        this.bind(name, v);
        return;
      }
      if (v.k === "ref" && v.base.kind === "reg") {
        // A reference (a lookup result) held in a vreg that later assignments overwrite.
        const r = this.vreg();
        this.emit({ op: "mov", dst: r, src: this.pointerOf(v) });
        this.bindPointer(name, r, v.type, v.readonly);
        return;
      }
      throw this.err(
        d,
        Code.Unsupported,
        `a let variable may hold an integer, an object literal or a reference (a map lookup, a ring buffer reservation), not ${describeValue(v)}; bind it with const`,
      );
    }
    // A const snapshot of a value that may change later (a let vreg, a map value field).
    if (v.k === "int" && v.op.kind === "reg") v = { ...v, op: reg(this.mov(v.op)) };
    if (
      v.k === "ref" &&
      v.nullReg !== undefined &&
      init !== undefined &&
      this.pointerBinding(init)
    ) {
      // `const d = c` where `let c` is a reference: later `c = …` must not move d.
      const r = this.mov(reg(v.nullReg));
      v = { ...v, base: { kind: "reg", id: r }, nullReg: r };
    }
    if (v.k === "ref" && v.type.kind === "int" && !v.nullable)
      v = { k: "int", op: this.int(v, at), ...(isU64(v) ? { u64: true } : {}) };
    this.bind(name, v);
  }

  protected bindPointer(name: ts.Identifier, r: VReg, type: Type, readonly: boolean): void {
    const sym = this.fe.checker.getSymbolAtLocation(name);
    if (!sym) throw this.err(name, Code.Unsupported, `cannot resolve ${name.text}`);
    this.env.set(sym, { value: VOID, pointer: { reg: r, type, readonly } });
  }

  /** True when `e` names a `let` holding a reference. */
  protected pointerBinding(e: ts.Expression): boolean {
    while (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
    if (!ts.isIdentifier(e)) return false;
    const sym = this.fe.checker.getSymbolAtLocation(e);
    return sym !== undefined && this.env.get(sym)?.pointer !== undefined;
  }

  /** The address a reference points at, as an operand (its base register plus offset). */
  protected override pointerOf(v: RefValue): Operand {
    if (v.base.kind !== "reg") throw new Error("internal: pointer of a stack slot");
    return v.off === 0 ? reg(v.base.id) : reg(this.alu("add", reg(v.base.id), imm(v.off)));
  }

  /** The layout of `X | null` (or `X | undefined`) where X names a layout. */
  protected nullableLayoutOf(node: ts.TypeNode): Type | undefined {
    if (!ts.isUnionTypeNode(node)) return undefined;
    const rest = node.types.filter(
      (t) =>
        !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword) &&
        t.kind !== ts.SyntaxKind.UndefinedKeyword,
    );
    return rest.length === 1 ? this.layoutOf(rest[0]!) : undefined;
  }

  /** The vreg of a `let` integer variable named by `e`, if it is one. */
  protected override mutableOf(e: ts.Expression): VReg | undefined {
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if (!ts.isIdentifier(e)) return undefined;
    const sym = this.fe.checker.getSymbolAtLocation(e);
    return sym ? this.env.get(sym)?.mutable : undefined;
  }

  /** True when the checker says `e` cannot be null or undefined here (after narrowing). */
  override isNonNull(e: ts.Expression): boolean {
    const t = this.fe.checker.getTypeAtLocation(e);
    const parts = t.isUnion() ? t.types : [t];
    return parts.every((x) => (x.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)) === 0);
  }

  /** The tsbpf/types layout a type annotation names: `Infer<typeof X>` or an alias of it. */
  layoutOf(node: ts.TypeNode): Type | undefined {
    return this.mod.consts.layoutOf(node);
  }

  protected switchStatement(s: ts.SwitchStatement): void {
    const subject = this.int(this.expr(s.expression), s.expression);
    const x = subject.kind === "reg" ? reg(this.mov(subject)) : subject;
    const exit = this.newBlock();
    const bodies = s.caseBlock.clauses.map(() => this.newBlock());
    let defaultBody: Block | undefined;
    s.caseBlock.clauses.forEach((cl, i) => {
      if (ts.isDefaultClause(cl)) {
        defaultBody = bodies[i];
        return;
      }
      const k = this.mod.consts.eval(cl.expression);
      if (typeof k !== "number" && typeof k !== "bigint" && typeof k !== "boolean")
        throw this.err(cl.expression, Code.NotConstant, "case labels must be integer constants");
      if (typeof k === "number" && !Number.isInteger(k))
        throw this.err(
          cl.expression,
          Code.Float,
          `case label ${k} is not an integer: eBPF has only integers; write an integer label`,
        );
      const next = this.newBlock();
      this.branch("eq", x, imm(typeof k === "boolean" ? Number(k) : k), bodies[i]!, next);
      this.switchTo(next);
    });
    this.jump(defaultBody ?? exit);
    this.loops.push({ brk: exit, cont: this.loops[this.loops.length - 1]?.cont ?? exit });
    s.caseBlock.clauses.forEach((cl, i) => {
      this.switchTo(bodies[i]!);
      this.nested(() => this.statements(cl.statements));
      this.jump(bodies[i + 1] ?? exit); // fallthrough
    });
    this.loops.pop();
    this.switchTo(exit);
  }
}
