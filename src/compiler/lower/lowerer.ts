// AST → IR for one program. Statements become blocks; expressions become vregs or typed
// values (values.ts). Packet parsing is in packet.ts, tsbpf/probe calls in intrinsics.ts.
import ts from "typescript";
import { struct, type Type } from "../../types/index.js";
import { basename } from "node:path";
import { canonical } from "../frontend/typecheck.js";
import { foreignFunction, isProbeFile } from "../module/imports.js";
import type { Frontend } from "../frontend/typecheck.js";
import { Code, CompileError } from "../errors.js";
import {
  imm,
  reg,
  swapBytes,
  type AluOp,
  type Base,
  type Block,
  type CmpOp,
  type Func,
  type Instr,
  type Loc,
  type Operand,
  type Size,
  type Terminator,
  type VReg,
} from "../ir/ir.js";
import {
  NOT_CONST,
  ZeroBytes,
  checkShiftCount,
  checkUshrCount,
  foldBinary,
} from "../module/consteval.js";
import type { ProbeModule, ProgramDecl } from "../module/scan.js";
import { VOID, type AggValue, type RefValue, type Value, type ViewValue } from "./values.js";
import { lowerCall } from "./intrinsics.js";
import { lowerViewProperty } from "./packet.js";
import { compileTimeBound } from "./bounds.js";
import { assignCtxField, assignViewField, ctxFieldRead, storeViewInto } from "./packet-write.js";
import { checkLoopBudget, checkLoopEnds, iterations } from "./loops.js";
import { MAX_LOWERED_INSTRS } from "../limits.js";
import type { Subprograms } from "./subprograms.js";

export const MAX_STACK = 512;
const MAX_INLINE_DEPTH = 8;
const MAX_LOOP_ITERATIONS = 1 << 16;
/** Loops of at most this many iterations are unrolled: the counter is a constant in each copy. */
export const UNROLL_MAX_ITERATIONS = 16;
/** Bodies copied by unrolling, nested loops multiplied, stay within this. */
export const UNROLL_MAX_COPIES = 64;

interface Binding {
  value: Value;
  /** `let` bindings of integers live in one vreg, reassigned in place */
  mutable?: VReg;
  /** `let` bindings of references (map lookups…): the pointer's vreg, 0 for null */
  pointer?: { reg: VReg; type: Type; readonly: boolean };
}

interface InlineFrame {
  exit: Block;
  result: VReg;
  depth: number;
}

interface LoopFrame {
  brk: Block;
  cont: Block;
}

/** Packet bounds of packet programs: data and data_end, loaded once at entry. */
export interface PacketRegs {
  data: VReg;
  end: VReg;
  /** cgroup skb programs see packets from the network header; the EtherType is skb->protocol */
  l3: boolean;
}

export class Lowerer {
  readonly func: Func;
  cur: Block;
  private readonly env = new Map<ts.Symbol, Binding>();
  private readonly loops: LoopFrame[] = [];
  private readonly inlines: InlineFrame[] = [];
  /** values of sub-expressions already lowered (the non-null object of an optional chain) */
  private readonly preset = new Map<ts.Node, Value>();
  /** `?.` links whose object has been tested (or cannot be null) */
  private readonly resolvedLinks = new Set<ts.Node>();
  /** product of the trip counts of the unrolled loops being lowered */
  private unrolled = 1;
  /** Iterations of the loops around the code being lowered, multiplied (the verifier walks them all). */
  private loopTrips = 1n;
  /** Counters of kernel loops: the verifier knows their exact value on each iteration. */
  readonly kernelCounters = new Set<ts.Symbol>();
  /** Instructions emitted so far, against MAX_LOWERED_INSTRS. */
  private emitted = 0;
  private loc: Loc | undefined;
  packet: PacketRegs | undefined;
  private readonly freeTemps: number[] = [];
  private readonly pendingTemps: number[] = [];
  /** > 0 inside code that does not run on every path (branches, loop bodies, inlined calls) */
  private depth = 0;
  /** packet parses done at depth 0: they dominate all later code, so later calls reuse them */
  readonly parsed = new Map<string, ViewValue>();

  /** set while lowering a subprogram: its symbol */
  private subName: string | undefined;

  constructor(
    readonly fe: Frontend,
    readonly mod: ProbeModule,
    readonly prog: ProgramDecl,
    readonly subs?: Subprograms,
  ) {
    this.func = { name: prog.name, blocks: [], ctx: 0, nextVreg: 1, slots: [] };
    this.cur = this.newBlock();
  }

  // ---- IR building ----

  /** Lower code that may be skipped at run time. */
  nested<T>(f: () => T): T {
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  /** True where the code being lowered runs on every path that reaches later code. */
  get dominatesRest(): boolean {
    return this.depth === 0;
  }

  vreg(): VReg {
    return this.func.nextVreg++;
  }

  newBlock(): Block {
    const b: Block = {
      id: this.func.blocks.length,
      instrs: [],
      term: { op: "ret", value: imm(0) },
    };
    (b as Block & { open?: boolean }).open = true;
    this.func.blocks.push(b);
    return b;
  }

  isOpen(b: Block = this.cur): boolean {
    return (b as Block & { open?: boolean }).open === true;
  }

  emit(i: Instr): void {
    if (this.loc) i.loc = this.loc;
    if (++this.emitted > MAX_LOWERED_INSTRS) {
      const at = this.loc ?? { file: this.prog.node.getSourceFile().fileName, line: 1, col: 1 };
      throw new CompileError(
        Code.Limit,
        `program ${this.prog.name} too large: more than ${MAX_LOWERED_INSTRS.toLocaleString("en-US")} instructions after inlining and unrolling (here); the kernel verifies at most 1,000,000. Mark large functions called in many places /** @noinline */, or use fewer unrolled iterations`,
        at.file,
        at.line,
        at.col,
      );
    }
    this.cur.instrs.push(i);
  }

  /** Terminate the current block; later code goes into a fresh (unreachable) block. */
  terminate(t: Terminator): void {
    if (this.loc) t.loc = this.loc;
    if (this.isOpen()) {
      this.cur.term = t;
      (this.cur as Block & { open?: boolean }).open = false;
    }
  }

  switchTo(b: Block): void {
    this.cur = b;
  }

  jump(target: Block): void {
    this.terminate({ op: "jmp", target: target.id });
  }

  branch(cond: CmpOp, a: Operand, b: Operand, t: Block, f: Block): void {
    if (a.kind === "imm" && b.kind === "reg") {
      // Keep the register on the left, as eBPF jumps need.
      const swapped: Record<CmpOp, CmpOp> = {
        eq: "eq",
        ne: "ne",
        gt: "lt",
        ge: "le",
        lt: "gt",
        le: "ge",
        sgt: "slt",
        sge: "sle",
        slt: "sgt",
        sle: "sge",
        set: "set",
      };
      this.terminate({ op: "br", cond: swapped[cond], a: b, b: a, t: t.id, f: f.id });
      return;
    }
    this.terminate({ op: "br", cond, a, b, t: t.id, f: f.id });
  }

  mov(src: Operand): VReg {
    const d = this.vreg();
    this.emit({ op: "mov", dst: d, src });
    return d;
  }

  alu(op: AluOp, a: Operand, b: Operand): VReg {
    const d = this.vreg();
    this.emit({ op: "alu", alu: op, dst: d, a, b });
    return d;
  }

  load(base: Base, off: number, size: Size): VReg {
    const d = this.vreg();
    this.emit({ op: "load", dst: d, base, off, size });
    return d;
  }

  /**
   * A stack slot. `temp` slots hold a helper call's key, value or buffer: they are dead once
   * that call is emitted (`releaseTemps`), and later temporaries reuse them.
   */
  slot(size: number, what: string, node: ts.Node, temp = false): number {
    if (temp) {
      const k = this.freeTemps.findIndex((t) => this.func.slots[t]!.size >= size);
      if (k >= 0) {
        const reused = this.freeTemps.splice(k, 1)[0]!;
        this.pendingTemps.push(reused);
        return reused;
      }
    }
    const total = this.func.slots.reduce((n, s) => n + ((s.size + 7) & ~7), 0) + ((size + 7) & ~7);
    if (total > MAX_STACK)
      throw CompileError.at(
        node,
        Code.StackTooLarge,
        `the stack frame would need ${total} bytes for ${what}; eBPF allows 512. Keep large values in a map (e.g. a PerCpuArrayMap scratch entry)`,
      );
    // A helper's temporary of at most 4 bytes gets its natural alignment (frameLayout puts it
    // at the top of its 8-byte chunk, fp-4 for a u32 key, as clang lays such a local out).
    // Nothing reads it back but the helper, and off an 8-byte boundary the verifier keeps a
    // constant stored there as plain initialised bytes rather than as a spilled register: paths
    // that differ only in the key (an array index chosen per branch) then reach the call in
    // equal states and are pruned, instead of each constant being walked to the end.
    const align = temp && size <= 4 ? (size <= 1 ? 1 : size <= 2 ? 2 : 4) : 8;
    this.func.slots.push({ size, align, what });
    const id = this.func.slots.length - 1;
    if (temp) this.pendingTemps.push(id);
    return id;
  }

  /** The call using the pending temporary slots has been emitted: they may be reused. */
  releaseTemps(): void {
    this.freeTemps.push(...this.pendingTemps.splice(0));
  }

  setLoc(node: ts.Node): void {
    const sf = node.getSourceFile();
    const p = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    this.loc = { file: sf.fileName, line: p.line + 1, col: p.character + 1 };
  }

  err(node: ts.Node, code: Code, msg: string): CompileError {
    return CompileError.at(node, code, msg);
  }

  // ---- entry ----

  lower(): Func {
    const fn = this.prog.fn;
    this.setLoc(fn);
    this.func.ctx = this.vreg();
    const kind = this.prog.kind;
    if (kind === "xdp" || kind === "tc" || kind === "cgroupSkb") {
      const [d, e] = kind === "xdp" ? [0, 4] : [76, 80];
      this.packet = {
        data: this.load({ kind: "reg", id: this.func.ctx }, d, 4),
        end: this.load({ kind: "reg", id: this.func.ctx }, e, 4),
        l3: kind === "cgroupSkb",
      };
    }
    const params = fn.parameters;
    if (params.length > 1)
      throw this.err(
        params[1]!,
        Code.BadApi,
        "a program function takes one parameter, the context",
      );
    if (params[0]) {
      if (!ts.isIdentifier(params[0].name))
        throw this.err(
          params[0],
          Code.Unsupported,
          "destructuring the context is not supported; name it (ctx)",
        );
      this.bind(params[0].name, { k: "ctx" });
    }
    if (!fn.body) throw this.err(fn, Code.BadApi, "program function has no body");
    if (ts.isBlock(fn.body)) {
      this.statements(fn.body.statements);
      if (this.isOpen()) {
        const node = fn.body.statements[fn.body.statements.length - 1] ?? fn.body;
        throw this.err(
          node,
          Code.BadApi,
          `program ${this.prog.name} can reach its end without returning a value; add a final return`,
        );
      }
    } else {
      const v = this.expr(fn.body);
      this.terminate({ op: "ret", value: this.int(v, fn.body) });
    }
    for (const b of this.func.blocks) delete (b as Block & { open?: boolean }).open;
    return this.func;
  }

  /**
   * A local function as a subprogram of its own: integer arguments arrive in r1…r5 and are
   * stored to stack slots first (isel), then read like `let` variables; the result in r0.
   */
  lowerSubprogram(decl: ts.FunctionDeclaration, name: string): Func {
    this.func.name = name;
    this.subName = name;
    this.setLoc(decl);
    this.func.ctx = this.vreg(); // unused: a subprogram sees no context
    this.func.argSlots = decl.parameters.map((p) => {
      const slot = this.slot(8, `argument ${p.name.getText()}`, p);
      const r = this.vreg();
      this.emit({ op: "load", dst: r, base: { kind: "slot", slot }, off: 0, size: 8 });
      this.bind(p.name as ts.Identifier, { k: "int", op: reg(r) }, r);
      return slot;
    });
    this.statements(decl.body!.statements);
    this.terminate({ op: "ret", value: imm(0) }); // a void function's end
    for (const b of this.func.blocks) delete (b as Block & { open?: boolean }).open;
    return this.func;
  }

  bind(name: ts.Identifier, value: Value, mutable?: VReg): void {
    const sym = this.fe.checker.getSymbolAtLocation(name);
    if (!sym) throw this.err(name, Code.Unsupported, `cannot resolve ${name.text}`);
    this.env.set(sym, mutable === undefined ? { value } : { value, mutable });
  }

  // ---- statements ----

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
  private destructure(pattern: ts.BindingName, v: Value, mutable: boolean): void {
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
  private bindValue(
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

  private bindPointer(name: ts.Identifier, r: VReg, type: Type, readonly: boolean): void {
    const sym = this.fe.checker.getSymbolAtLocation(name);
    if (!sym) throw this.err(name, Code.Unsupported, `cannot resolve ${name.text}`);
    this.env.set(sym, { value: VOID, pointer: { reg: r, type, readonly } });
  }

  /** True when `e` names a `let` holding a reference. */
  private pointerBinding(e: ts.Expression): boolean {
    while (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
    if (!ts.isIdentifier(e)) return false;
    const sym = this.fe.checker.getSymbolAtLocation(e);
    return sym !== undefined && this.env.get(sym)?.pointer !== undefined;
  }

  /** The address a reference points at, as an operand (its base register plus offset). */
  private pointerOf(v: RefValue): Operand {
    if (v.base.kind !== "reg") throw new Error("internal: pointer of a stack slot");
    return v.off === 0 ? reg(v.base.id) : reg(this.alu("add", reg(v.base.id), imm(v.off)));
  }

  /** The layout of `X | null` (or `X | undefined`) where X names a layout. */
  private nullableLayoutOf(node: ts.TypeNode): Type | undefined {
    if (!ts.isUnionTypeNode(node)) return undefined;
    const rest = node.types.filter(
      (t) =>
        !(ts.isLiteralTypeNode(t) && t.literal.kind === ts.SyntaxKind.NullKeyword) &&
        t.kind !== ts.SyntaxKind.UndefinedKeyword,
    );
    return rest.length === 1 ? this.layoutOf(rest[0]!) : undefined;
  }

  /** The vreg of a `let` integer variable named by `e`, if it is one. */
  private mutableOf(e: ts.Expression): VReg | undefined {
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if (!ts.isIdentifier(e)) return undefined;
    const sym = this.fe.checker.getSymbolAtLocation(e);
    return sym ? this.env.get(sym)?.mutable : undefined;
  }

  /** True when the checker says `e` cannot be null or undefined here (after narrowing). */
  isNonNull(e: ts.Expression): boolean {
    const t = this.fe.checker.getTypeAtLocation(e);
    const parts = t.isUnion() ? t.types : [t];
    return parts.every((x) => (x.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)) === 0);
  }

  /** The tsbpf/types layout a type annotation names: `Infer<typeof X>` or an alias of it. */
  layoutOf(node: ts.TypeNode): Type | undefined {
    return this.mod.consts.layoutOf(node);
  }

  private forLoop(s: ts.ForStatement): void {
    // Shape required: for (let i = A; i <op> B; i++ | i-- | i += C | i -= C), A/B/C constant.
    const bad = (msg: string) =>
      this.err(
        s,
        Code.UnboundedLoop,
        `loop bound not provable: ${msg}; write for (let i = 0; i < N; i++) with constant N (use break to stop early)`,
      );
    const init = s.initializer;
    if (!init || !ts.isVariableDeclarationList(init) || init.declarations.length !== 1)
      throw bad("the loop needs one `let` counter");
    const d = init.declarations[0]!;
    if (!ts.isIdentifier(d.name) || !d.initializer) throw bad("the counter needs an initial value");
    const start = this.mod.consts.eval(d.initializer);
    if (typeof start !== "number" && typeof start !== "bigint")
      throw bad("the initial value is not a constant");
    const counterSym = this.fe.checker.getSymbolAtLocation(d.name);
    if (!counterSym) throw bad("the counter cannot be resolved");
    const isCounter = (n: ts.Node) =>
      ts.isIdentifier(n) && this.fe.checker.getSymbolAtLocation(n) === counterSym;
    const c = s.condition;
    if (!c || !ts.isBinaryExpression(c))
      throw bad("the condition must compare the counter with a constant");
    let limit: unknown;
    // The bound: a constant, or a value known when compiling (`bytes.length - 3`): bounds.ts.
    const bound = (e: ts.Expression): unknown => compileTimeBound(this, e);
    if (isCounter(c.left)) limit = bound(c.right);
    else if (isCounter(c.right)) limit = bound(c.left);
    else throw bad("the condition must compare the counter with a constant");
    if (typeof limit !== "number" && typeof limit !== "bigint")
      throw bad("the bound is not a constant");
    const inc = s.incrementor;
    let step = 0n;
    if (
      inc &&
      (ts.isPostfixUnaryExpression(inc) || ts.isPrefixUnaryExpression(inc)) &&
      isCounter(inc.operand)
    ) {
      step =
        inc.operator === ts.SyntaxKind.PlusPlusToken
          ? 1n
          : inc.operator === ts.SyntaxKind.MinusMinusToken
            ? -1n
            : 0n;
    } else if (inc && ts.isBinaryExpression(inc) && isCounter(inc.left)) {
      const k = this.mod.consts.eval(inc.right);
      if (typeof k === "number" && !Number.isInteger(k))
        throw this.err(
          inc.right,
          Code.Float,
          `the loop's step ${k} is not an integer: eBPF has only integers; write an integer step`,
        );
      if (typeof k === "number" || typeof k === "bigint") {
        if (inc.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken) step = BigInt(k);
        if (inc.operatorToken.kind === ts.SyntaxKind.MinusEqualsToken) step = -BigInt(k);
      }
    }
    if (step === 0n) throw bad("the counter must change by a constant step each iteration");
    for (const [what, v, at] of [
      ["initial value", start, d.initializer],
      ["bound", limit, isCounter(c.left) ? c.right : c.left],
    ] as const)
      if (typeof v === "number" && !Number.isInteger(v))
        throw this.err(
          at,
          Code.Float,
          `the loop's ${what} ${v} is not an integer: eBPF has only integers; write an integer ${what}`,
        );
    checkLoopEnds(
      this,
      s,
      c.operatorToken.kind,
      isCounter(c.left),
      BigInt(start),
      BigInt(limit),
      step,
    );
    const span = (BigInt(limit) - BigInt(start)) / step;
    if (span > BigInt(MAX_LOOP_ITERATIONS))
      throw this.err(
        s,
        Code.UnboundedLoop,
        `loop runs up to ${span} times; the limit is ${MAX_LOOP_ITERATIONS} (the verifier walks every iteration)`,
      );
    const assigns = (n: ts.Node): boolean => {
      if (
        (ts.isBinaryExpression(n) &&
          n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
          n.operatorToken.kind <= ts.SyntaxKind.LastAssignment &&
          isCounter(n.left)) ||
        ((ts.isPostfixUnaryExpression(n) || ts.isPrefixUnaryExpression(n)) &&
          (n.operator === ts.SyntaxKind.PlusPlusToken ||
            n.operator === ts.SyntaxKind.MinusMinusToken) &&
          isCounter(n.operand))
      )
        return true;
      return ts.forEachChild(n, assigns) ?? false;
    };
    if (assigns(s.statement)) throw bad("the body assigns the counter");

    const trips = this.tripCount(start, limit, step, c, isCounter(c.left));
    if (trips?.length === 0) return this.checkNeverRuns(s, init, counterSym, start);
    if (trips !== undefined && trips.length * this.unrolled <= UNROLL_MAX_COPIES)
      return this.unroll(s, counterSym, trips);

    const own =
      iterations(c.operatorToken.kind, isCounter(c.left), BigInt(start), BigInt(limit), step) ?? 1n;
    checkLoopBudget(this, s, this.loopTrips, own);
    this.kernelCounters.add(counterSym);
    this.variables(init);
    const head = this.newBlock();
    const body = this.newBlock();
    const cont = this.newBlock();
    const exit = this.newBlock();
    this.jump(head);
    this.switchTo(head);
    this.cond(c, body, exit);
    this.switchTo(body);
    this.loops.push({ brk: exit, cont });
    const outerTrips = this.loopTrips;
    this.loopTrips = outerTrips * own;
    try {
      this.nested(() => this.statement(s.statement));
    } finally {
      this.loopTrips = outerTrips;
    }
    this.loops.pop();
    this.jump(cont);
    this.switchTo(cont);
    this.setLoc(inc!);
    this.expr(inc!);
    this.jump(head);
    this.switchTo(exit);
  }

  /**
   * The counter's values, when the loop runs at most UNROLL_MAX_ITERATIONS times; computed
   * with the generated code's 64-bit semantics.
   */
  private tripCount(
    start: number | bigint,
    limit: number | bigint,
    step: bigint,
    c: ts.BinaryExpression,
    counterLeft: boolean,
  ): (number | bigint)[] | undefined {
    const out: (number | bigint)[] = [];
    const asNumber = typeof start === "number";
    let i = BigInt(start);
    const k = BigInt(limit);
    for (;;) {
      const go = counterLeft
        ? foldBinary(c.operatorToken.kind, i, k)
        : foldBinary(c.operatorToken.kind, k, i);
      if (typeof go !== "boolean") return undefined;
      if (!go) return out;
      if (out.length === UNROLL_MAX_ITERATIONS) return undefined;
      out.push(asNumber ? Number(i) : i);
      i = BigInt.asIntN(64, i + step);
    }
  }

  /**
   * A loop that never runs emits nothing, but its body is still lowered — into blocks no edge
   * reaches, dropped before code generation — so that misuse inside it is reported while the
   * bound happens to be 0. The counter has no value there: the body is tried with it as its
   * start value (an unrolled copy's view) and, if that fails, as a run-time integer (a kernel
   * loop's view); only an error in both is the body's own, reported as the first attempt saw it. Stack slots and temporaries taken
   * by the attempts are given back, so the loop costs no stack either.
   */
  private checkNeverRuns(
    s: ts.ForStatement,
    init: ts.VariableDeclarationList,
    counter: ts.Symbol,
    start: number | bigint,
  ): void {
    const live = this.cur;
    const saved = {
      slots: this.func.slots.length,
      free: [...this.freeTemps],
      pending: [...this.pendingTemps],
      loops: this.loops.length,
      inlines: this.inlines.length,
      loc: this.loc,
    };
    const attempt = (lowerBody: (body: () => void) => void): CompileError | undefined => {
      this.switchTo(this.newBlock()); // no predecessor
      const end = this.newBlock();
      this.loops.push({ brk: end, cont: end });
      try {
        lowerBody(() => this.nested(() => this.statement(s.statement)));
        return undefined;
      } catch (e) {
        if (e instanceof CompileError) return e;
        throw e;
      } finally {
        this.func.slots.length = saved.slots;
        this.freeTemps.splice(0, Infinity, ...saved.free);
        this.pendingTemps.splice(0, Infinity, ...saved.pending);
        this.loops.length = saved.loops;
        this.inlines.length = saved.inlines;
        this.loc = saved.loc;
      }
    };
    const atStart = attempt((body) => {
      this.env.set(counter, { value: { k: "const", v: start } });
      this.mod.consts.withBinding(counter, start, body);
    });
    if (
      atStart &&
      attempt((body) => {
        this.variables(init);
        body();
      })
    )
      throw atStart;
    this.switchTo(live);
  }

  /** A loop copied once per iteration, its counter a constant in each copy. */
  private unroll(s: ts.ForStatement, counter: ts.Symbol, values: (number | bigint)[]): void {
    const exit = this.newBlock();
    const outer = this.unrolled;
    const outerTrips = this.loopTrips;
    this.unrolled *= Math.max(1, values.length);
    this.loopTrips = outerTrips * BigInt(Math.max(1, values.length));
    try {
      for (const v of values) {
        const next = this.newBlock();
        this.loops.push({ brk: exit, cont: next });
        this.env.set(counter, { value: { k: "const", v } });
        this.mod.consts.withBinding(counter, v, () =>
          this.nested(() => this.statement(s.statement)),
        );
        this.loops.pop();
        this.jump(next);
        this.switchTo(next);
      }
    } finally {
      this.unrolled = outer;
      this.loopTrips = outerTrips;
    }
    this.jump(exit);
    this.switchTo(exit);
  }

  private switchStatement(s: ts.SwitchStatement): void {
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

  // ---- conditions ----

  /** Lower a condition into control flow: jump to `t` when truthy, `f` otherwise. */
  cond(e: ts.Expression, t: Block, f: Block): void {
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

  private compare(
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

  // ---- expressions ----

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
  int(v: Value, node: ts.Node): Operand {
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

  private identifier(e: ts.Identifier): Value {
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

  private isApi(e: ts.Node): boolean {
    return this.mod.consts.apiName(e) !== undefined;
  }

  private property(e: ts.PropertyAccessExpression): Value {
    if (ts.isPrivateIdentifier(e.name))
      throw this.err(e, Code.Unsupported, "private names are not supported");
    const obj = this.expr(e.expression); // a `?.` here was resolved by optionalChain()
    const name = e.name.text;
    return this.member(obj, name, e);
  }

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

  private ctxMember(name: string, e: ts.Node): Value {
    const kind = this.prog.kind;
    const ctx: Base = { kind: "reg", id: this.func.ctx };
    if (kind === "xdp") {
      const off = { ingressIfindex: 12, rxQueueIndex: 16 }[name];
      if (off !== undefined) return { k: "int", op: reg(this.load(ctx, off, 4)) };
    }
    if (kind === "tc" || kind === "cgroupSkb" || kind === "socketFilter") {
      const off = SKB_FIELDS[name];
      if (off !== undefined && name === "protocol") {
        // skb->protocol holds the EtherType in network order; probes see 0x0800 for IPv4. A
        // narrow 2-byte read (the kernel's field is 16 bits) lets `protocol === K` compare the
        // raw load with the swapped constant (compareRawFields), as clang does.
        const d = this.vreg();
        this.emit({ op: "bswap", dst: d, a: reg(this.load(ctx, off, 2)), bits: 16 });
        return { k: "int", op: reg(d) };
      }
      if (off !== undefined) return { k: "int", op: reg(this.load(ctx, off, 4)) };
    }
    if (kind === "tracepoint" && name === "fields")
      return {
        k: "ref",
        base: ctx,
        off: 8,
        type: this.prog.layout!,
        nullable: false,
        readonly: true,
      };
    throw this.err(e, Code.BadApi, `the ${kind} context has no field ${name}`);
  }

  private elementAccess(e: ts.ElementAccessExpression): Value {
    const obj = this.expr(e.expression);
    const idx = this.mod.consts.eval(e.argumentExpression);
    if (obj.k === "ref" && obj.type.kind === "array") {
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

  private objectLiteral(e: ts.ObjectLiteralExpression): AggValue {
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
  private arrayLiteral(e: ts.ArrayLiteralExpression): AggValue {
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
  private snapshot(v: Value, node: ts.Node): Value {
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

  private binary(e: ts.BinaryExpression): Value {
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

  /**
   * An optional chain `x?.a.b(…)`: the deepest unresolved `?.` link's object is tested once;
   * on the non-null path the whole chain is lowered with that object known non-null (further
   * links recurse), on the null path the chain is undefined. The two results merge like
   * `andPointer`: pointers and views into one register (0 for null), integers with a presence
   * flag for `??`.
   */
  private optionalChain(top: ts.Expression): Value {
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
  private exprNoChain(e: ts.Expression): Value {
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
  private carry(v: Value, node: ts.Node): { ops: Operand[]; make: (r: VReg[]) => Value } {
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
  private presentInt(v: RefValue, node: ts.Node): Value {
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
  private nullish(e: ts.BinaryExpression): Value {
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
  private andPointer(lv: Value, e: ts.BinaryExpression): Value {
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

  private isBooleanTyped(e: ts.Expression): boolean {
    const t = this.fe.checker.getTypeAtLocation(e);
    return (
      (t.flags & ts.TypeFlags.BooleanLike) !== 0 ||
      (t.isUnion() && t.types.every((x) => (x.flags & ts.TypeFlags.BooleanLike) !== 0))
    );
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
   * shifted by `n & 31`. Moving them to the top and shifting back down by `32 + n` takes two
   * instructions and needs no 64-bit mask constant.
   */
  private ushr(x: Operand, n: Operand, countNode: ts.Node): Operand {
    if (n.kind === "imm") checkUshrCount(countNode, n.value);
    const by =
      n.kind === "imm"
        ? imm(32n + n.value)
        : reg(this.alu("add", reg(this.alu("and", n, imm(31))), imm(32)));
    return reg(this.alu("rsh", reg(this.alu("lsh", x, imm(32))), by));
  }

  private unary(e: ts.PrefixUnaryExpression | ts.PostfixUnaryExpression): Value {
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
  private assign(target: ts.Expression, value: () => Value, node: ts.Node): Value {
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
    if (v.k === "view" && v.view === "ipv6addr" && t.size === 16) {
      for (const o of [0, 8]) {
        const x = this.load({ kind: "reg", id: v.ptr }, o, 8);
        this.emit({ op: "store", base: place.base, off: place.off + o, size: 8, value: reg(x) });
      }
      return;
    }
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

  copy(from: Base, fromOff: number, to: Base, toOff: number, size: number): void {
    let o = 0;
    while (o < size) {
      const n = (size - o >= 8 ? 8 : size - o >= 4 ? 4 : size - o >= 2 ? 2 : 1) as Size;
      const x = this.load(from, fromOff + o, n);
      this.emit({ op: "store", base: to, off: toOff + o, size: n, value: reg(x) });
      o += n;
    }
  }

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

  // ---- local functions: bpf-to-bpf calls and inlining ----

  private callSubprogram(
    fn: ts.FunctionDeclaration,
    args: readonly ts.Expression[],
    call: ts.Node,
  ): Value {
    const ops = fn.parameters.map((p, i) => {
      const a = args[i];
      if (a) return this.int(this.expr(a), a);
      if (!p.initializer) throw this.err(call, Code.BadApi, `missing argument ${p.name.getText()}`);
      return this.int(this.expr(p.initializer), p.initializer);
    });
    for (const a of args.slice(fn.parameters.length)) this.expr(a); // evaluated, unused
    // Values in registers must be copies: the callee cannot change the caller's variables,
    // but isel moves operands into r1…r5 in order, so keep each argument in its own vreg.
    const moved = ops.map((o) => (o.kind === "reg" ? reg(this.mov(o)) : o));
    const name = this.subs!.symbolOf(fn, this.prog);
    if (this.subName !== undefined) {
      const set = this.subs!.callees.get(this.subName) ?? new Set<string>();
      set.add(name);
      this.subs!.callees.set(this.subName, set);
    }
    const dst = this.vreg();
    this.emit({ op: "call", dst, helper: 0, args: moved, fn: name });
    return { k: "int", op: reg(dst) };
  }

  inline(
    fn: ts.FunctionDeclaration | ts.ArrowFunction | ts.FunctionExpression,
    args: readonly ts.Expression[],
    call: ts.Node,
  ): Value {
    if (this.subs && ts.isFunctionDeclaration(fn) && this.subs.wantsCall(fn))
      return this.callSubprogram(fn, args, call);
    const depth = (this.inlines[this.inlines.length - 1]?.depth ?? 0) + 1;
    if (depth > MAX_INLINE_DEPTH)
      throw this.err(
        call,
        Code.Limit,
        `function calls nest deeper than ${MAX_INLINE_DEPTH} (recursion is not supported)`,
      );
    if (fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword))
      throw this.err(
        fn,
        Code.Unsupported,
        "async functions are not supported: nothing in a probe is asynchronous",
      );
    if (fn.asteriskToken) throw this.err(fn, Code.Unsupported, "generators are not supported");
    const values = args.map((a) => this.snapshot(this.expr(a), a));
    fn.parameters.forEach((p, i) => {
      if (p.dotDotDotToken)
        throw this.err(p, Code.Unsupported, "rest parameters are not supported");
      let v = values[i];
      if (v === undefined) {
        if (!p.initializer)
          throw this.err(
            call,
            Code.BadApi,
            `missing argument ${ts.isIdentifier(p.name) ? p.name.text : i + 1}`,
          );
        v = this.expr(p.initializer);
      }
      if (!ts.isIdentifier(p.name)) return this.destructure(p.name, v, false);
      if (v.k === "int" || v.k === "const") {
        // Parameters are assignable inside the function: give each its own vreg.
        const r = this.vreg();
        this.emit({ op: "mov", dst: r, src: this.int(v, call) });
        this.bind(p.name, { k: "int", op: reg(r) }, r);
      } else this.bind(p.name, v);
    });
    const exit = this.newBlock();
    const result = this.vreg();
    this.emit({ op: "mov", dst: result, src: imm(0) });
    this.inlines.push({ exit, result, depth });
    const saved = this.loops.splice(0);
    // Line info: the body's own lines (maybe in another module), then the caller's line again
    // for the rest of the calling statement.
    const callerLoc = this.loc;
    const body = fn.body!;
    this.nested(() => {
      if (ts.isBlock(body)) this.statements(body.statements);
      else {
        this.setLoc(body);
        this.emit({ op: "mov", dst: result, src: this.int(this.expr(body), body) });
      }
    });
    this.jump(exit);
    this.loops.push(...saved);
    this.inlines.pop();
    this.switchTo(exit);
    this.loc = callerLoc;
    return { k: "int", op: reg(result) };
  }
}

const isU64 = (v: Value): boolean =>
  (v.k === "int" && v.u64 === true) ||
  (v.k === "ref" && v.type.kind === "int" && v.type.size === 8 && !v.type.signed);

/**
 * `< <= > >=` are signed, except where an operand is a u64 (a field, map value or global of
 * type u64, or a const bound to one) and the other is a u64 too or a constant >= 0: those
 * compare unsigned, so values of 2^63 and more order as the bigints they are.
 */
function unsignedCompare(a: Value, b: Value): boolean {
  // a compile-time constant (folded expression) >= 0; not a value that merely became an
  // immediate (an unrolled loop's counter through toBigInt stays signed)
  const ok = (v: Value) =>
    isU64(v) ||
    (v.k === "const" && (typeof v.v === "number" || typeof v.v === "bigint") && v.v >= 0);
  return (isU64(a) || isU64(b)) && ok(a) && ok(b);
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

/** The outermost node of an optional chain (`a?.b.c` as a whole). */
function isChainTop(e: ts.Node): boolean {
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

/** Byte ranges of `t` that belong to no field (struct padding, nested too). */
export function padding(t: Type, at = 0): [number, number][] {
  if (t.kind !== "struct") return [];
  const out: [number, number][] = [];
  let end = at;
  for (const f of t.fields) {
    if (at + f.offset > end) out.push([end, at + f.offset]);
    out.push(...padding(f.type, at + f.offset));
    end = at + f.offset + f.type.size;
  }
  if (at + t.size > end) out.push([end, at + t.size]);
  return out;
}

const SKB_FIELDS: Record<string, number> = {
  len: 0,
  pktType: 4,
  mark: 8,
  queueMapping: 12,
  protocol: 16,
  vlanPresent: 20,
  priority: 32,
  ingressIfindex: 36,
  ifindex: 40,
  hash: 68,
};

const CMP: Partial<Record<ts.SyntaxKind, { op: CmpOp }>> = {
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

export function describeValue(v: Value): string {
  switch (v.k) {
    case "int":
      return "an integer";
    case "const":
      return `the constant ${typeof v.v === "string" ? JSON.stringify(v.v) : typeof v.v === "object" ? "object" : String(v.v)}`;
    case "ctx":
      return "the program context";
    case "packet":
      return "the packet";
    case "map":
      return `map ${v.map.name}`;
    case "ref":
      return `a ${v.type.label} in memory`;
    case "agg":
      return "an object literal";
    case "view":
      return `a packet ${v.view} view`;
    case "fn":
      return "a function";
    case "mapdata":
      return "MapData";
    case "void":
      return "nothing (void)";
  }
}
