// What the lowering of kernel-struct reads (lower/kernel-types.ts) tells the emitter
// (backend/core-btf.ts): the structs and fields as the probe's declarations describe them
// (the `spec` of each CO-RE relocation), and the `.kconfig` externs the programs read.
import type ts from "typescript";
import type { Size } from "./ir.js";

/** A struct or union of the generated declarations. */
export interface KStruct {
  /** kernel name; "" when anonymous */
  name: string;
  kind: "struct" | "union";
  size: number;
  /** the TypeScript interface's name (unique in its file), for messages and keys */
  tsName: string;
  /** the declaring file + interface name: one KStruct per declaration */
  key: string;
  type: ts.Type;
}

interface FieldBase {
  name: string;
  /** byte offset within the owning struct, as the declarations say */
  off: number;
}
export type KField = FieldBase &
  (
    | { k: "int"; size: Size; signed: boolean }
    | { k: "ptr"; target: KStruct }
    | { k: "emb"; target: KStruct }
    | { k: "addr" }
    | { k: "arr"; elemSize: Size; signed: boolean; n: number }
    | { k: "bits"; bitOff: number; bits: number; unit: Size; signed: boolean }
    | { k: "other"; what: string }
  );

/** A step of an access: a field of a struct. */
export interface KStep {
  owner: KStruct;
  field: KField;
}

/** What a CO-RE relocation reads: root struct (what the pointer points to) and the steps. */
export interface KSpec {
  root: KStruct;
  steps: KStep[];
  /** an element of the last step's array field (access string "…:N:index") */
  index?: number;
}

/** Externs (`.kconfig`) the probe reads: name → kind; the emitter declares them. */
export type KconfigUse = "version" | "tristate" | "int";
const kconfigByModule = new WeakMap<object, Map<string, KconfigUse>>();
/** The `.kconfig` externs a module's programs read (keyed by the ProbeModule). */
export function kconfigUses(mod: object): Map<string, KconfigUse> {
  let m = kconfigByModule.get(mod);
  if (!m) kconfigByModule.set(mod, (m = new Map()));
  return m;
}
