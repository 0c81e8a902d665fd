// TypeScript declarations of kernel types, generated from BTF (`tsbpf btf gen`): what a probe
// imports to write `task.real_parent.tgid` instead of hand-written offsets.
//
// Each struct/union becomes an interface; each member a `readonly` property whose `@btf`
// comment carries what the compiler needs to emit the load and its CO-RE relocation, so the local
// BTF of a compiled object describes the types exactly as the probe saw them (the host that
// builds need not be the kernel that generated the file, nor the one that runs it):
//
//     /* @btf struct task_struct 9792 */           kind, name ("-" when anonymous), size
//     export interface task_struct {
//       /* @btf 2472 s32 */ readonly pid: number;  byte offset, int with sign and bits
//       /* @btf 2504 ptr */ readonly real_parent: task_struct;  pointer to a struct
//       /* @btf 1408 emb */ readonly se: sched_entity;   embedded struct
//       /* @btf 3000 addr */ readonly stack: bigint;      any other pointer: its value
//       /* @btf 3040 arr u8 16 */ readonly comm: KernelArray<number>;
//       /* @btf 96 bits 3 1 u32 */ readonly flag: number;  first bit in that byte, bit count, unit
//
// Plain block comments, not JSDoc: TypeScript skips them while parsing (JSDoc it parses, which
// made a 500 KB file several times slower to load); the compiler reads the one before each
// declaration it uses.
//
// Members of anonymous structs/unions are hoisted into their parent at their absolute offset
// (C lets you name them that way, and CO-RE matches fields by name through anonymous members).
// Only the closure of the requested types is emitted: pointers are followed `depth` levels
// deep; a pointer to a struct beyond that is an `addr` (its value) so the output stays small.
// Pure: BTF in, text out.
import type { BtfStruct, BtfType, BtfTypes } from "./btf.js";

import { TsbpfError } from "../errors.js";
import { ObjectError } from "./errors.js";

/** A type name the BTF does not define. */
export class BtfTypeNotFoundError extends TsbpfError {
  override readonly name = "BtfTypeNotFoundError";
}

export interface BtfToTsOptions {
  /** struct/union names to declare (their closure comes along) */
  types: readonly string[];
  /** how many pointer hops from a requested type are declared (default 3) */
  depth?: number;
  /** first line(s) of the file, e.g. where the BTF came from */
  header?: string;
}

export interface BtfToTsResult {
  text: string;
  /** how many interfaces were declared */
  interfaces: number;
}

const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends " +
    "false finally for function if import in instanceof new null return super switch this throw " +
    "true try typeof var void while with implements interface let package private protected " +
    "public static yield any boolean number string symbol bigint unknown never object undefined " +
    "type namespace module declare abstract as async await constructor get set of readonly " +
    "require global infer is keyof unique KernelArray"
  ).split(" "),
);

const MODIFIERS = new Set(["typedef", "const", "volatile", "restrict", "type_tag"]);

/** Declarations of `opts.types` and what they reach. Throws ObjectError for an unknown name. */
export function btfToTs(btf: BtfTypes, opts: BtfToTsOptions): BtfToTsResult {
  const depth = opts.depth ?? 3;
  const strip = (id: number): [number, BtfType] => {
    let t = btf.typeById(id);
    for (let n = 0; MODIFIERS.has(t.kind) && n < 32; n++) {
      id = (t as { type: number }).type;
      t = btf.typeById(id);
    }
    return [id, t];
  };
  /** a full definition for a forward declaration (pointers to `struct file` often are) */
  const complete = (id: number, t: BtfType): [number, BtfType] => {
    if (t.kind !== "fwd" || t.name === "") return [id, t];
    for (const c of btf.idsWithEssentialName(t.name)) {
      const ct = btf.typeById(c);
      if (ct.kind === (t.union ? "union" : "struct") && ct.name === t.name) return [c, ct];
    }
    return [id, t];
  };

  // Names: each declared id gets one TypeScript name; anonymous ones are named after their use.
  const names = new Map<number, string>();
  const taken = new Set<string>();
  const nameFor = (id: number, t: BtfStruct, hint: string): string => {
    const have = names.get(id);
    if (have) return have;
    let base = t.name !== "" ? t.name : hint;
    if (RESERVED.has(base)) base += "_";
    let n = t.kind === "union" && t.name !== "" && taken.has(base) ? `${base}_union` : base;
    for (let k = 2; taken.has(n); k++) n = `${base}_${k}`;
    taken.add(n);
    names.set(id, n);
    return n;
  };

  const depthOf = new Map<number, number>();
  const queue: number[] = [];
  const want = (id: number, t: BtfStruct, d: number, hint: string): string => {
    const name = nameFor(id, t, hint);
    const had = depthOf.get(id);
    if (had === undefined || d < had) {
      depthOf.set(id, d);
      queue.push(id);
    }
    return name;
  };

  for (const root of opts.types) {
    const ids = btf.idsWithEssentialName(root).filter((id) => {
      const t = btf.typeById(id);
      return (t.kind === "struct" || t.kind === "union") && t.name === root;
    });
    if (ids.length === 0)
      throw new BtfTypeNotFoundError(
        `the BTF has no struct or union named ${root} (names are the C ones: task_struct, file, sk_buff, trace_event_raw_sched_switch…)`,
      );
    want(ids[0]!, btf.typeById(ids[0]!) as BtfStruct, 0, root);
  }

  const out = new Map<number, string>();
  let usesArray = false;
  while (queue.length > 0) {
    const id = queue.shift()!;
    const d = depthOf.get(id)!;
    const t = btf.typeById(id) as BtfStruct;
    const name = names.get(id)!;
    const lines: string[] = [];
    const seen = new Set<string>();
    const member = (
      m: BtfStruct["members"][number],
      base: number,
      owner: string,
      via: readonly number[],
    ): void => {
      const bitOff = base + m.bitOffset;
      const [mid0, mt0] = strip(m.type);
      const [mid, mt] = complete(mid0, mt0);
      if (m.name === "") {
        if (mt.kind === "struct" || mt.kind === "union") {
          if (via.includes(mid))
            throw new ObjectError(`BTF ${t.kind} ${t.name || name} contains itself (type ${mid})`);
          for (const inner of mt.members) member(inner, bitOff, owner, [...via, mid]);
        }
        return;
      }
      if (seen.has(m.name)) return;
      seen.add(m.name);
      const byteOff = Math.floor(bitOff / 8);
      let tag: string;
      let ts: string;
      const intOf = (x: BtfType): [string, string] | undefined => {
        if (x.kind === "int") {
          const signed = (x.encoding & 1) !== 0;
          return [`${signed ? "s" : "u"}${x.size * 8}`, x.size > 4 ? "bigint" : "number"];
        }
        if (x.kind === "enum" || x.kind === "enum64")
          return [`${x.signed ? "s" : "u"}${x.size * 8}`, x.size > 4 ? "bigint" : "number"];
        return undefined;
      };
      const asInt = intOf(mt);
      const isBitfield =
        m.bitfieldSize > 0 ||
        (mt.kind === "int" && (mt.bitOffset !== 0 || mt.bits !== mt.size * 8));
      if (isBitfield && asInt) {
        const bits = m.bitfieldSize > 0 ? m.bitfieldSize : (mt as { bits: number }).bits;
        tag = `${byteOff} bits ${bitOff - byteOff * 8} ${bits} ${asInt[0]}`;
        ts = asInt[1];
      } else if (asInt && [1, 2, 4, 8].includes((mt as { size: number }).size)) {
        tag = `${byteOff} ${asInt[0]}`;
        ts = asInt[1];
      } else if (mt.kind === "ptr") {
        const [pid0, pt0] = strip(mt.type);
        const [pid, pt] = complete(pid0, pt0);
        if ((pt.kind === "struct" || pt.kind === "union") && (d < depth || depthOf.has(pid))) {
          tag = `${byteOff} ptr`;
          ts = want(pid, pt, d + 1, `${owner}__${m.name}`);
        } else {
          tag = `${byteOff} addr`;
          ts = "bigint";
          if (pt.kind === "struct" || pt.kind === "union" || pt.kind === "fwd")
            lines.push(
              `  // ${m.name}: ${pt.kind === "union" ? "union" : "struct"} ${pt.name || "(anonymous)"} *, beyond --depth ${depth}: its address`,
            );
        }
      } else if (mt.kind === "struct" || mt.kind === "union") {
        tag = `${byteOff} emb`;
        ts = want(mid, mt, d, `${owner}__${m.name}`);
      } else if (mt.kind === "array") {
        const [, et] = strip(mt.type);
        const e = intOf(et);
        if (e && [1, 2, 4, 8].includes((et as { size: number }).size)) {
          tag = `${byteOff} arr ${e[0]} ${mt.nelems}`;
          ts = `KernelArray<${e[1]}>`;
          usesArray = true;
        } else {
          tag = `${byteOff} other array`;
          ts = "unknown";
        }
      } else {
        tag = `${byteOff} other ${mt.kind}`;
        ts = "unknown";
      }
      const prop = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(m.name) ? m.name : JSON.stringify(m.name);
      lines.push(`  /* @btf ${tag} */ readonly ${prop}: ${ts};`);
    };
    for (const m of t.members) member(m, 0, name, [id]);
    out.set(
      id,
      `/* @btf ${t.kind} ${t.name === "" ? "-" : t.name} ${t.size} */\n` +
        `export interface ${name} {\n${lines.join("\n")}${lines.length ? "\n" : ""}}\n`,
    );
  }
  const head = [
    "// Generated by `tsbpf btf gen`: kernel types for probes. Do not edit; regenerate instead.",
    ...(opts.header ? opts.header.split("\n").map((l) => `// ${l}`) : []),
    "// The @btf tags carry offsets and sizes as this BTF had them; compiled probes record them",
    "// as CO-RE relocations, and the loader moves each access to the running kernel's offset.",
    usesArray ? 'import type { KernelArray } from "tsbpf/probe";' : "export {};",
    "",
  ];
  const body = [...out.values()];
  return { text: head.join("\n") + "\n" + body.join("\n"), interfaces: body.length };
}
