// What intrinsics.ts and packet.ts may ask of the lowering: the IR builder plus the few
// Lowerer entry points they call back into (lower a sub-expression, coerce it to an integer,
// store or zero memory, inline a function). They import this interface, never the Lowerer,
// so the value-level imports stay one way: lowerer → intrinsics → packet → builder.
import type ts from "typescript";
import type { Type } from "../../types/index.js";
import type { Frontend } from "../frontend/typecheck.js";
import type { Base, Operand, VReg } from "../ir/ir.js";
import type { ProbeModule } from "../module/scan.js";
import type { IrBuilder } from "./builder.js";
import type { RefValue, Value, ViewValue } from "./values.js";

/** Packet bounds of packet programs: data and data_end, loaded once at entry. */
export interface PacketRegs {
  data: VReg;
  end: VReg;
  /** cgroup skb programs see packets from the network header; the EtherType is skb->protocol */
  l3: boolean;
}

export interface LowerHost extends IrBuilder {
  readonly fe: Frontend;
  readonly mod: ProbeModule;
  /** set at entry for packet programs (xdp, tc, cgroup skb) */
  readonly packet: PacketRegs | undefined;
  /** packet parses that dominate the rest of the program, by parse level */
  readonly parsed: Map<string, ViewValue>;
  /** counters of kernel loops: the verifier knows their exact value on each iteration */
  readonly kernelCounters: Set<ts.Symbol>;
  expr(e: ts.Expression): Value;
  int(v: Value, node: ts.Node): Operand;
  refMember(obj: RefValue, name: string, e: ts.Node): Value;
  storeValue(place: RefValue, v: Value, node: ts.Node): void;
  zero(base: Base, off: number, size: number): void;
  materializeOnStack(v: Value, t: Type, node: ts.Node, what: string, temp?: boolean): number;
  inline(
    fn: ts.FunctionDeclaration | ts.ArrowFunction | ts.FunctionExpression,
    args: readonly ts.Expression[],
    call: ts.Node,
  ): Value;
}
