// AST → IR for one program: the entry (context and packet registers), subprogram entry, and the
// context ABI (`ctx.field` → load at the offset the program-kind table, obj/program-kinds.ts,
// gives). Lowerer is the top of the chain that state.ts describes; index.ts constructs it once
// per program and per subprogram.
// Packet parsing is in packet.ts, tsbpf/probe calls in intrinsics.ts.
import ts from "typescript";
import { Code } from "../errors.js";
import { imm, reg, type Base, type Func, type Operand } from "../ir/ir.js";
import type { LoopCallbackSpec } from "./for-loops.js";
import type { Value } from "./values.js";
import { tracepointRecord } from "./kernel-types.js";
import { Calls } from "./calls.js";
import { CONTEXTS, packetFields, probeContextField } from "../../obj/program-kinds.js";
import { reachable } from "./reach.js";

export class Lowerer extends Calls {
  lower(): Func {
    const fn = this.prog.fn;
    this.setLoc(fn);
    this.func.ctx = this.vreg();
    const pk = packetFields(this.prog.kind);
    if (pk) {
      this.packet = {
        data: this.load({ kind: "reg", id: this.func.ctx }, pk.data.offset, pk.data.size),
        end: this.load({ kind: "reg", id: this.func.ctx }, pk.end.offset, pk.end.size),
        l3: pk.start === "network",
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
      if (this.isOpen() && !reachable(this.func, this.cur.id))
        this.terminate({ op: "ret", value: imm(0) }); // every path returned (if/else, switch)
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
    return this.func;
  }

  /**
   * A local function as a subprogram of its own: integer arguments arrive in r1…r5 (entry
   * vregs, `Func.args`), each copied to the `let`-like vreg its parameter names, so that an
   * assignment to a parameter never redefines an entry vreg; the result in r0.
   */
  lowerSubprogram(decl: ts.FunctionDeclaration, name: string): Func {
    this.func.name = name;
    this.subName = name;
    this.setLoc(decl);
    this.func.ctx = this.vreg(); // unused: a subprogram sees no context
    this.func.args = decl.parameters.map((p) => {
      const a = this.vreg();
      const r = this.vreg();
      this.emit({ op: "mov", dst: r, src: reg(a) });
      this.bind(p.name as ts.Identifier, { k: "int", op: reg(r) }, r);
      return a;
    });
    this.statements(decl.body!.statements);
    this.terminate({ op: "ret", value: imm(0) }); // a void function's end
    return this.func;
  }

  protected override lowerLoopCallback(spec: LoopCallbackSpec): Func {
    return new Lowerer(this.fe, this.mod, this.prog, this.subs).loopCallback(spec);
  }

  /**
   * A bpf_loop body as `static long cb(u32 index, void *ctx)` (bpf-loop.ts): the counter is
   * start + index × step; captured variables are read from the context struct, the assigned
   * ones written back at each exit; 0 continues, 1 stops.
   */
  private loopCallback(spec: LoopCallbackSpec): Func {
    const { loop, context } = spec;
    this.func.name = spec.name;
    this.subName = spec.name;
    this.loopTrips = spec.outerTrips;
    this.setLoc(loop);
    this.func.ctx = this.vreg(); // unused: r1 is the index
    // r1 (the index) and r2 (the context pointer) arrive as entry vregs (`Func.args`)
    const index = this.vreg();
    const cp = this.vreg();
    this.func.args = [index, cp];
    let counter: Operand = reg(index);
    if (spec.step !== 1n) counter = reg(this.alu("mul", counter, imm(spec.step)));
    if (BigInt(spec.start) !== 0n) counter = reg(this.alu("add", counter, imm(BigInt(spec.start))));
    this.env.set(spec.counter, { value: { k: "int", op: counter } });
    const at = { kind: "reg", id: cp } as const;
    const writeBack: { reg: number; off: number }[] = [];
    for (const c of context.captures) {
      const b = c.binding;
      const v = b.value;
      if (c.off === undefined) {
        this.env.set(c.sym, b);
        continue;
      }
      const r = this.load(at, c.off, 8);
      if (b.mutable !== undefined) {
        this.env.set(c.sym, { value: { k: "int", op: reg(r) }, mutable: r });
        if (c.written) writeBack.push({ reg: r, off: c.off });
      } else if (v.k === "int") this.env.set(c.sym, { value: { ...v, op: reg(r) } });
      else if (v.k === "ref")
        this.env.set(c.sym, {
          value: {
            ...v,
            base: { kind: "reg", id: r },
            ...(v.nullReg !== undefined ? { nullReg: r } : {}),
          },
        });
    }
    this.loopBody = {
      ctx: cp,
      writeBack,
      program: spec.program,
      ...(context.ret ? { ret: context.ret } : {}),
    };
    const cont = this.newBlock();
    const brk = this.newBlock();
    this.loops.push({ brk, cont });
    this.nested(() => this.statement(loop.statement));
    this.loops.pop();
    this.jump(cont);
    for (const [block, code] of [
      [cont, 0],
      [brk, 1],
    ] as const) {
      this.switchTo(block);
      this.setLoc(loop);
      for (const w of writeBack)
        this.emit({ op: "store", base: at, off: w.off, size: 8, value: reg(w.reg) });
      this.terminate({ op: "ret", value: imm(code) });
    }
    return this.func;
  }

  protected override ctxMember(name: string, e: ts.Node): Value {
    const kind = this.prog.kind;
    const ctx: Base = { kind: "reg", id: this.func.ctx };
    const f = probeContextField(kind, name);
    if (f) {
      const off = f.offset;
      if (name === "protocol") {
        // skb->protocol holds the EtherType in network order; probes see 0x0800 for IPv4. A
        // narrow 2-byte read (the kernel's field is 16 bits) lets `protocol === K` compare the
        // raw load with the swapped constant (compareRawFields), as clang does.
        const d = this.vreg();
        this.emit({ op: "bswap", dst: d, a: reg(this.load(ctx, off, 2)), bits: 16 });
        return { k: "int", op: reg(d) };
      }
      if (f.netOrder) {
        // sock_ops / sk_msg addresses and remote ports arrive in network order: host numbers
        const d = this.vreg();
        this.emit({ op: "bswap", dst: d, a: reg(this.load(ctx, off, 4)), bits: 32 });
        return { k: "int", op: reg(d) };
      }
      return { k: "int", op: reg(this.load(ctx, off, f.size)) };
    }
    if (kind === "tracepoint" && name === "fields" && !this.prog.layout)
      return tracepointRecord(this, this.prog.record, e);
    if (kind === "tracepoint" && name === "fields")
      return {
        k: "ref",
        base: ctx,
        off: CONTEXTS.trace_entry.size,
        type: this.prog.layout!,
        nullable: false,
        readonly: true,
      };
    throw this.err(e, Code.BadApi, `the ${this.prog.api} context has no field ${name}`);
  }
}
