// The lowering's state and its layer contract. Lowering is one class split by concern into a
// chain, each file extending the one below it (so value imports run one way, top to bottom):
//   builder.ts IrBuilder → state.ts LowerState → memory.ts → expressions.ts → chains.ts →
//   conditions.ts → statements.ts → for-loops.ts → calls.ts → lowerer.ts Lowerer (entry, context)
// Statements, expressions and conditions recurse into each other, so a lower layer calls upward
// through the abstract declarations at the end of this class; the layer that implements one
// marks it `override`. intrinsics.ts and packet.ts see only host.ts, never this chain.
import ts from "typescript";
import type { Type } from "../../types/index.js";
import type { Frontend } from "../frontend/typecheck.js";
import { Code } from "../errors.js";
import type { Block, Operand, VReg } from "../ir/ir.js";
import type { ProbeModule, ProgramDecl } from "../module/scan.js";
import type { RefValue, Value, ViewValue } from "./values.js";
import type { PacketRegs } from "./host.js";
import { IrBuilder } from "./builder.js";
import type { Subprograms } from "./subprograms.js";

export interface Binding {
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

/** Set while lowering a bpf_loop callback's body (bpf-loop.ts): how its exits leave. */
export interface LoopBody {
  /** the callback's context pointer */
  ctx: VReg;
  /** captured `let` variables the body assigns: their vreg here and context offset */
  writeBack: { reg: VReg; off: number }[];
  /** flag and value offsets for a `return` of the enclosing function */
  ret?: { flag: number; value: number };
  /** the enclosing function is the program itself: `return` needs a value */
  program: boolean;
}

export abstract class LowerState extends IrBuilder {
  protected readonly env = new Map<ts.Symbol, Binding>();

  protected readonly loops: LoopFrame[] = [];

  protected readonly inlines: InlineFrame[] = [];

  /** values of sub-expressions already lowered (the non-null object of an optional chain) */
  protected readonly preset = new Map<ts.Node, Value>();

  /** `?.` links whose object has been tested (or cannot be null) */
  protected readonly resolvedLinks = new Set<ts.Node>();

  /** product of the trip counts of the unrolled loops being lowered */
  protected unrolled = 1;

  /** Iterations of the loops around the code being lowered, multiplied (the verifier walks them all). */
  protected loopTrips = 1n;

  /** Counters of kernel loops: the verifier knows their exact value on each iteration. */
  readonly kernelCounters = new Set<ts.Symbol>();

  packet: PacketRegs | undefined;

  /** packet parses done at depth 0: they dominate all later code, so later calls reuse them */
  readonly parsed = new Map<string, ViewValue>();

  /** set while lowering a subprogram: its symbol */
  protected subName: string | undefined;

  /** set while lowering a bpf_loop callback (for-loops.ts) */
  protected loopBody: LoopBody | undefined;

  constructor(
    readonly fe: Frontend,
    readonly mod: ProbeModule,
    prog: ProgramDecl,
    readonly subs?: Subprograms,
  ) {
    super(prog);
  }

  bind(name: ts.Identifier, value: Value, mutable?: VReg): void {
    const sym = this.fe.checker.getSymbolAtLocation(name);
    if (!sym) throw this.err(name, Code.Unsupported, `cannot resolve ${name.text}`);
    this.env.set(sym, mutable === undefined ? { value } : { value, mutable });
  }

  // ---- implemented by the layers above (see lowerer.ts) ----

  /** The value as an integer operand (loads it when it is an integer in memory). */
  abstract int(v: Value, node: ts.Node): Operand;

  /**
   * An optional chain `x?.a.b(…)`: the deepest unresolved `?.` link's object is tested once;
   * on the non-null path the whole chain is lowered with that object known non-null (further
   * links recurse), on the null path the chain is undefined. The two results merge like
   * `andPointer`: pointers and views into one register (0 for null), integers with a presence
   * flag for `??`.
   */
  protected abstract optionalChain(top: ts.Expression): Value;

  /** `a ?? b`: b when a is null or undefined (a lookup missed, an optional chain stopped). */
  protected abstract nullish(e: ts.BinaryExpression): Value;

  /**
   * `a && b` where `a` may be null (a header view, a map lookup) and `b` is a view or lookup
   * too — `const h = d && d.read(6)`: the result is b, or null when a is null.
   */
  protected abstract andPointer(lv: Value, e: ts.BinaryExpression): Value;

  protected abstract isBooleanTyped(e: ts.Expression): boolean;

  abstract cond(e: ts.Expression, t: Block, f: Block): void;

  /** The address a reference points at, as an operand (its base register plus offset). */
  protected abstract pointerOf(v: RefValue): Operand;

  /** The vreg of a `let` integer variable named by `e`, if it is one. */
  protected abstract mutableOf(e: ts.Expression): VReg | undefined;

  /** True when the checker says `e` cannot be null or undefined here (after narrowing). */
  abstract isNonNull(e: ts.Expression): boolean;

  protected abstract forLoop(s: ts.ForStatement): void;

  /** `return` inside a bpf_loop callback's body: store the value, stop the loop (for-loops.ts). */
  protected abstract returnFromLoopBody(v: Operand | undefined, s: ts.Node): void;

  abstract inline(
    fn: ts.FunctionDeclaration | ts.ArrowFunction | ts.FunctionExpression,
    args: readonly ts.Expression[],
    call: ts.Node,
  ): Value;

  protected abstract ctxMember(name: string, e: ts.Node): Value;
}
