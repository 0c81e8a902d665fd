// Bounded `for` loops. A loop with a constant trip count of at most UNROLL_MAX_ITERATIONS is
// unrolled (the counter a constant in each copy, which the verifier and the passes exploit);
// others become kernel loops whose termination and verifier cost loops.ts checks up front,
// so a loop the verifier could not finish is a compile error at the loop.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { foldBinary } from "../module/consteval.js";
import { checkLoopBudget, checkLoopEnds, iterations } from "./loops.js";
import { compileTimeBound } from "./bounds.js";
import { Statements } from "./statements.js";
import { imm, reg, type Func, type Operand } from "../ir/ir.js";
import {
  BPF_FUNC_LOOP,
  BPF_LOOP_MIN_TRIPS,
  bodyBranches,
  captureFailure,
  findCaptures,
  layoutContext,
  type LoopContext,
} from "./bpf-loop.js";

/** What the callback of a bpf_loop is lowered from (lowerer.ts lowers it). */
export interface LoopCallbackSpec {
  name: string;
  loop: ts.ForStatement;
  counter: ts.Symbol;
  start: number | bigint;
  step: bigint;
  context: LoopContext;
  /** the loop is in the program's own body (not in a function or another callback) */
  program: boolean;
  /** iterations of the loops around it: the verifier checks the callback once per call */
  outerTrips: bigint;
}

const MAX_LOOP_ITERATIONS = 1 << 16;

/** Loops of at most this many iterations are unrolled: the counter is a constant in each copy. */
export const UNROLL_MAX_ITERATIONS = 16;

/** Bodies copied by unrolling, nested loops multiplied, stay within this. */
export const UNROLL_MAX_COPIES = 64;

export abstract class ForLoops extends Statements {
  /** bpf_loop context slots free for the next bpf_loop of this function */
  private readonly loopContexts: number[] = [];

  protected override forLoop(s: ts.ForStatement): void {
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
    if (
      this.subs &&
      own > BPF_LOOP_MIN_TRIPS &&
      bodyBranches(s.statement) &&
      this.bpfLoop(s, counterSym, start, step, own)
    )
      return;
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

  /** Lowers the body of a bpf_loop as a callback function of its own (lowerer.ts). */
  protected abstract lowerLoopCallback(spec: LoopCallbackSpec): Func;

  /**
   * The loop as `bpf_loop(trips, callback, &context, 0)` (bpf-loop.ts); false, emitting
   * nothing, when its body uses something of the code around it a callback cannot reach.
   */
  protected bpfLoop(
    s: ts.ForStatement,
    counter: ts.Symbol,
    start: number | bigint,
    step: bigint,
    trips: bigint,
  ): boolean {
    const found = findCaptures(this.fe.checker, this.env, s.statement);
    const captures = [...found.captures.values()].filter((c) => c.sym !== counter);
    if (captures.some((c) => captureFailure(c) !== undefined)) return false;
    const context = layoutContext(captures, found.returns);
    const owner = this.func.name;
    const name = this.subs!.callbackName(owner);
    const func = this.lowerLoopCallback({
      name,
      loop: s,
      counter,
      start,
      step,
      context,
      program: this.inlines.length === 0 && this.subName === undefined && !this.loopBody,
      outerTrips: this.loopTrips,
    });
    this.subs!.addCallback(owner, name, func, this.prog);
    this.setLoc(s);
    // a context struct is dead once the values after the call are read back: later bpf_loops
    // of this function (unrolled copies, loops one after another) reuse it
    const k = this.loopContexts.findIndex((x) => this.func.slots[x]!.size >= context.size);
    const slot =
      k >= 0
        ? this.loopContexts.splice(k, 1)[0]!
        : this.slot(context.size, "the bpf_loop context", s);
    const at = { kind: "slot", slot } as const;
    for (const c of captures) {
      if (c.off === undefined) continue;
      const b = c.binding;
      const v = b.value;
      let op: Operand;
      if (b.mutable !== undefined) op = reg(b.mutable);
      else if (v.k === "int") op = v.op;
      else if (v.k === "ref" && v.base.kind === "slot") {
        const a = this.vreg();
        this.emit({ op: "addr", dst: a, slot: v.base.slot, off: 0 });
        op = reg(a);
      } else if (v.k === "ref" && v.base.kind === "reg") op = reg(v.base.id);
      else continue;
      this.emit({ op: "store", base: at, off: c.off, size: 8, value: op });
    }
    if (context.ret)
      this.emit({ op: "store", base: at, off: context.ret.flag, size: 8, value: imm(0) });
    const fn = this.vreg();
    this.emit({ op: "funcaddr", dst: fn, fn: name });
    const ctxAddr = this.vreg();
    this.emit({ op: "addr", dst: ctxAddr, slot, off: 0 });
    this.emit({
      op: "call",
      dst: undefined,
      helper: BPF_FUNC_LOOP,
      args: [imm(trips), reg(fn), reg(ctxAddr), imm(0)],
    });
    for (const c of captures)
      if (c.written && c.off !== undefined && c.binding.mutable !== undefined)
        this.emit({ op: "load", dst: c.binding.mutable, base: at, off: c.off, size: 8 });
    if (context.ret) {
      const flag = this.load(at, context.ret.flag, 8);
      const leave = this.newBlock();
      const after = this.newBlock();
      this.branch("ne", reg(flag), imm(0), leave, after);
      this.switchTo(leave);
      this.leaveWith(reg(this.load(at, context.ret.value, 8)), s);
      this.switchTo(after);
    }
    this.loopContexts.push(slot);
    return true;
  }

  /** What `return v` does here: leave the inlined function, the callback, or the program. */
  protected leaveWith(v: Operand | undefined, node: ts.Node): void {
    const frame = this.inlines[this.inlines.length - 1];
    if (frame) {
      if (v) this.emit({ op: "mov", dst: frame.result, src: v });
      this.jump(frame.exit);
    } else if (this.loopBody) this.returnFromLoopBody(v, node);
    else this.terminate({ op: "ret", value: v ?? imm(0) });
  }

  protected override returnFromLoopBody(v: Operand | undefined, node: ts.Node): void {
    const lb = this.loopBody!;
    if (!v && lb.program)
      throw this.err(node, Code.BadApi, "a program must return a value (an action or a number)");
    const at = { kind: "reg", id: lb.ctx } as const;
    for (const w of lb.writeBack)
      this.emit({ op: "store", base: at, off: w.off, size: 8, value: reg(w.reg) });
    if (v) this.emit({ op: "store", base: at, off: lb.ret!.value, size: 8, value: v });
    this.emit({ op: "store", base: at, off: lb.ret!.flag, size: 8, value: imm(1) });
    this.terminate({ op: "ret", value: imm(1) });
  }

  /**
   * The counter's values, when the loop runs at most UNROLL_MAX_ITERATIONS times; computed
   * with the generated code's 64-bit semantics.
   */
  protected tripCount(
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
  protected checkNeverRuns(
    s: ts.ForStatement,
    init: ts.VariableDeclarationList,
    counter: ts.Symbol,
    start: number | bigint,
  ): void {
    const live = this.cur;
    const saved = {
      slots: this.func.slots.length,
      loopContexts: [...this.loopContexts],
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
        this.loopContexts.splice(0, Infinity, ...saved.loopContexts);
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
  protected unroll(s: ts.ForStatement, counter: ts.Symbol, values: (number | bigint)[]): void {
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
}
