// What an expression lowers to. Most probe values are 64-bit integers in vregs; the rest are
// compile-time things (constants, maps, contexts) or typed pointers whose kind decides which
// loads are legal. Keeping pointers typed here is what lets the compiler reject misuse before
// the verifier does, with a source position.
import type ts from "typescript";
import type { Type } from "../../types/index.js";
import type { Base, Operand, VReg } from "../ir/ir.js";
import type { MapDecl } from "../module/scan.js";
import type { KernelValue } from "./kernel-types.js";

/** A 64-bit integer (number, bigint or boolean). `strings` maps literal names to values
 * (`transport.protocol` compares against "tcp"/"udp"). */
export interface IntValue {
  k: "int";
  op: Operand;
  strings?: Readonly<Record<string, number>>;
  /** the result of an optional chain (`m.get(k)?.n`): non-zero when not undefined (`op` is
   * 0 when undefined) */
  present?: VReg;
  /** read from an unsigned 64-bit field (u64): `< <= > >=` compare it unsigned */
  u64?: boolean;
}

export interface ConstValue {
  k: "const";
  v: unknown;
}

/** The program's context argument. */
export interface CtxValue {
  k: "ctx";
}

/** A packet (XDP context itself, or `tc`/`cgroupSkb` ctx.packet()). */
export interface PacketValue {
  k: "packet";
}

export interface MapValue {
  k: "map";
  map: MapDecl;
}

/** Memory holding a value of `type`: a map value, a tracepoint record, a stack struct. */
export interface RefValue {
  k: "ref";
  base: Base;
  off: number;
  type: Type;
  /** a map lookup result not yet tested against null */
  nullable: boolean;
  readonly: boolean;
  /** vreg to test for null (the map lookup result) */
  nullReg?: VReg;
}

/** An object literal, materialised on the stack when a layout is known (map key/value…). */
export interface AggValue {
  k: "agg";
  fields: Map<string, Value>;
  node: ts.Node;
  /** an array literal (`[0, 0, 0]`): its elements are `fields` "0", "1", … */
  elements?: number;
}

export type ViewKind =
  | "eth"
  | "ip"
  | "transport"
  | "payload"
  | "bytes"
  | "vbytes"
  | "ipv6addr"
  | "mac"
  | "icmp"
  | "vlan"
  | "arp";

/** A checked packet pointer (0 when the header is absent). */
export interface ViewValue {
  k: "view";
  view: ViewKind;
  ptr: VReg;
  /** ip: version (4/6); transport: protocol (6/17); icmp: 1 or 58; payload: offset from packet start */
  aux?: VReg;
  /** transport: offset of the transport header from the packet start */
  aux2?: VReg;
  /** bytes: how many bytes were checked */
  n?: number;
}

export interface FnValue {
  k: "fn";
  decl: ts.FunctionDeclaration | ts.ArrowFunction | ts.FunctionExpression;
}

export interface MapDataValue {
  k: "mapdata";
  value: Value;
  offset: Value;
  size: Value;
  node: ts.Node;
}

export interface VoidValue {
  k: "void";
}

export type Value =
  | IntValue
  | ConstValue
  | CtxValue
  | PacketValue
  | MapValue
  | RefValue
  | AggValue
  | ViewValue
  | FnValue
  | MapDataValue
  | KernelValue
  | VoidValue;

export const VOID: VoidValue = { k: "void" };

/** The value as a diagnostic names it ("a packet ipv4 view", "map counts"…). */
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
    case "kernel":
      return `a kernel ${v.type.kind} (${v.type.tsName})`;
  }
}
