// Calls to local functions: inlined by default (the verifier sees constants through them), or
// compiled as bpf-to-bpf subprograms when subprograms.ts chose so (@noinline, large bodies
// called in many places).
import ts from "typescript";
import { Code } from "../errors.js";
import { imm, reg } from "../ir/ir.js";
import type { Value } from "./values.js";
import { ForLoops } from "./for-loops.js";

const MAX_INLINE_DEPTH = 8;

export abstract class Calls extends ForLoops {
  protected callSubprogram(
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

  override inline(
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
