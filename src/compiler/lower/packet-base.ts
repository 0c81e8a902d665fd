// Packet primitives shared by the header parsers (packet.ts, packet-headers.ts) and the writes
// (packet-write.ts): the packet registers, the bounds check, and one parse layer's result
// registers. In a file of their own so those modules import them without importing each other.
import type ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type Block, type VReg } from "../ir/ir.js";
import type { LowerHost } from "./host.js";
import type { ViewValue } from "./values.js";

export function packetRegs(lw: LowerHost, node: ts.Node): { data: VReg; end: VReg; l3: boolean } {
  if (!lw.packet)
    throw CompileError.at(
      node,
      Code.BadApi,
      `${lw.prog.api} programs have no direct packet access`,
    );
  return lw.packet;
}

/** Continue in a new block when `ptr + n <= data_end`, else jump to `fail`. */
export function checkBounds(lw: LowerHost, ptr: VReg, n: number, fail: Block, node: ts.Node): void {
  const { end } = packetRegs(lw, node);
  const t = lw.alu("add", reg(ptr), imm(n));
  const ok = lw.newBlock();
  lw.branch("gt", reg(t), reg(end), fail, ok);
  lw.switchTo(ok);
}

/** Result registers of one layer, a null exit and a join; `done` fills them on a path. */
export function layer(lw: LowerHost, view: ViewValue["view"], withAux2 = false) {
  const out: ViewValue = {
    k: "view",
    view,
    ptr: lw.vreg(),
    aux: lw.vreg(),
    ...(withAux2 ? { aux2: lw.vreg() } : {}),
  };
  const nullB = lw.newBlock();
  const join = lw.newBlock();
  // `a` is a vreg holding the aux value, or a constant (4/6, 6/17) when given as { k }.
  const done = (ptr: VReg, a: VReg | { k: number }, a2?: VReg) => {
    lw.emit({ op: "mov", dst: out.ptr, src: reg(ptr) });
    lw.emit({ op: "mov", dst: out.aux!, src: typeof a === "number" ? reg(a) : imm(a.k) });
    if (a2 !== undefined) lw.emit({ op: "mov", dst: out.aux2!, src: reg(a2) });
    lw.jump(join);
  };
  const finish = (): ViewValue => {
    lw.switchTo(nullB);
    lw.emit({ op: "mov", dst: out.ptr, src: imm(0) });
    lw.emit({ op: "mov", dst: out.aux!, src: imm(0) });
    if (withAux2) lw.emit({ op: "mov", dst: out.aux2!, src: imm(0) });
    lw.jump(join);
    lw.switchTo(join);
    return out;
  };
  return { nullB, done, finish };
}

/** Continue in a new block when `ptr` is not 0 (a present lower layer). */
export function whenPresent(lw: LowerHost, ptr: VReg, nullB: Block): void {
  const ok = lw.newBlock();
  lw.branch("eq", reg(ptr), imm(0), nullB, ok);
  lw.switchTo(ok);
}
