// The IR builder every part of lowering writes through: vregs, blocks, instructions,
// branches, stack slots and helper temporaries, and the source position stamped on each
// instruction. It knows nothing of TypeScript syntax beyond the node a diagnostic points at,
// so intrinsics.ts and packet.ts can build code against it (through host.ts) without
// importing the Lowerer.
import type ts from "typescript";
import { Code, CompileError } from "../errors.js";
import {
  imm,
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
import { MAX_LOWERED_INSTRS, MAX_STACK } from "../limits.js";
import type { ProgramDecl } from "../module/scan.js";

export class IrBuilder {
  readonly func: Func;
  cur: Block;
  /**
   * Blocks still taking instructions: a block leaves the set when it gets its terminator.
   * Kept here, not on Block, because "open" means nothing after lowering.
   */
  private readonly open = new Set<Block>();
  /** Instructions emitted so far, against MAX_LOWERED_INSTRS. */
  private emitted = 0;
  /** Source position stamped on instructions emitted from now on. */
  protected loc: Loc | undefined;
  /** Temporary slots free for reuse, and those the next helper call still reads. */
  protected readonly freeTemps: number[] = [];
  protected readonly pendingTemps: number[] = [];
  /** > 0 inside code that does not run on every path (branches, loop bodies, inlined calls) */
  private depth = 0;

  constructor(readonly prog: ProgramDecl) {
    this.func = { name: prog.name, blocks: [], ctx: 0, nextVreg: 1, slots: [] };
    this.cur = this.newBlock();
  }

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
    this.open.add(b);
    this.func.blocks.push(b);
    return b;
  }

  isOpen(b: Block = this.cur): boolean {
    return this.open.has(b);
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
      this.open.delete(this.cur);
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
}
