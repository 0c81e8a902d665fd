// BTF (BPF Type Format, Documentation/bpf/btf.rst): reading, lookups, writing.
//
// The loader parses clang's `.BTF` section, fills DATASEC sizes and VAR offsets (clang leaves
// them zero in relocatable objects), re-encodes and hands it to BPF_BTF_LOAD. The compiler
// builds BTF from scratch with `BtfBuilder`. Both sides share the `BtfType` model below.
//
// Type ids index `Btf.types`; id 0 is `void` and is never encoded.
import { ByteReader, ByteWriter } from "./byte-reader.js";
import { ObjectError } from "./errors.js";
import { bug } from "../bug.js";

export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
const BTF_HEADER_LEN = 24;
const SECTION = ".BTF";

/** Numeric BTF_KIND_* values as encoded in `info` bits 24..28. */
export const BtfKind = {
  VOID: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** BTF_INT_* encoding bits. */
export const BtfIntEncoding = { SIGNED: 1, CHAR: 2, BOOL: 4 } as const;
/** `enum btf_func_linkage` (FUNC vlen). */
export const BtfFuncLinkage = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;
/** VAR linkage (BTF_VAR_STATIC, BTF_VAR_GLOBAL_ALLOCATED, BTF_VAR_GLOBAL_EXTERN). */
export const BtfVarLinkage = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;

export interface BtfVoid {
  kind: "void";
  name: "";
}
export interface BtfInt {
  kind: "int";
  name: string;
  /** bytes: 1, 2, 4, 8 or 16 */
  size: number;
  /** BtfIntEncoding bits */
  encoding: number;
  bitOffset: number;
  bits: number;
}
export interface BtfPtr {
  kind: "ptr";
  name: string;
  type: number;
}
export interface BtfArray {
  kind: "array";
  name: string;
  type: number;
  indexType: number;
  nelems: number;
}
export interface BtfMember {
  name: string;
  type: number;
  bitOffset: number;
  /** non-zero only for bitfields (requires the struct's kindFlag) */
  bitfieldSize: number;
}
export interface BtfStruct {
  kind: "struct" | "union";
  name: string;
  size: number;
  /** set when member offsets carry bitfield sizes */
  kindFlag: boolean;
  members: BtfMember[];
}
export interface BtfEnum {
  kind: "enum";
  name: string;
  size: number;
  signed: boolean;
  values: { name: string; value: number }[];
}
export interface BtfEnum64 {
  kind: "enum64";
  name: string;
  size: number;
  signed: boolean;
  values: { name: string; value: bigint }[];
}
export interface BtfFwd {
  kind: "fwd";
  name: string;
  union: boolean;
}
/** Types that are just a name or qualifier over another type. */
export interface BtfRef {
  kind: "typedef" | "volatile" | "const" | "restrict" | "type_tag";
  name: string;
  type: number;
}
export interface BtfFunc {
  kind: "func";
  name: string;
  /** FUNC_PROTO id */
  type: number;
  /** BtfFuncLinkage */
  linkage: number;
}
export interface BtfFuncProto {
  kind: "func_proto";
  name: string;
  returnType: number;
  /** a final param with name "" and type 0 marks varargs */
  params: { name: string; type: number }[];
}
export interface BtfVar {
  kind: "var";
  name: string;
  type: number;
  /** BtfVarLinkage */
  linkage: number;
}
export interface BtfVarSecinfo {
  /** VAR (or FUNC for .ksyms) id */
  type: number;
  offset: number;
  size: number;
}
export interface BtfDatasec {
  kind: "datasec";
  name: string;
  size: number;
  vars: BtfVarSecinfo[];
}
export interface BtfFloat {
  kind: "float";
  name: string;
  size: number;
}
export interface BtfDeclTag {
  kind: "decl_tag";
  name: string;
  type: number;
  /** -1 tags the type itself, otherwise a member / parameter index */
  componentIdx: number;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfPtr
  | BtfArray
  | BtfStruct
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfRef
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

export type BtfKindName = BtfType["kind"];
/** The member of BtfType whose `kind` admits K (BtfStruct for both "struct" and "union"). */
export type BtfTypeOf<K extends BtfKindName> = BtfType extends infer T
  ? T extends { kind: infer TK }
    ? K extends TK
      ? T
      : never
    : never
  : never;

const KIND_BY_NUMBER: readonly BtfKindName[] = [
  "void",
  "int",
  "ptr",
  "array",
  "struct",
  "union",
  "enum",
  "fwd",
  "typedef",
  "volatile",
  "const",
  "restrict",
  "func",
  "func_proto",
  "var",
  "datasec",
  "float",
  "decl_tag",
  "type_tag",
  "enum64",
];

/** The numeric BTF_KIND_* of a kind name. */
export function kindNumber(kind: BtfKindName): number {
  return KIND_BY_NUMBER.indexOf(kind);
}

/** Type ids a type refers to (for validation and graph walks). */
export function typeRefs(t: BtfType): number[] {
  switch (t.kind) {
    case "ptr":
    case "typedef":
    case "volatile":
    case "const":
    case "restrict":
    case "type_tag":
    case "func":
    case "var":
    case "decl_tag":
      return [t.type];
    case "array":
      return [t.type, t.indexType];
    case "struct":
    case "union":
      return t.members.map((m) => m.type);
    case "func_proto":
      return [t.returnType, ...t.params.map((p) => p.type)];
    case "datasec":
      return t.vars.map((v) => v.type);
    default:
      return [];
  }
}

const MAX_CHAIN = 64;

/**
 * What CO-RE relocation reads from a BTF (src/obj/core.ts): a parsed `Btf` or a lazily decoded
 * kernel/module `LazyBtf`. Ids are global: a split (module) BTF answers for its base's ids too.
 */
export interface BtfTypes {
  /** one past the last type id */
  readonly typeCount: number;
  /** the first id this BTF itself defines (1; for split BTF, its base's typeCount) */
  readonly firstId: number;
  /** the type with this id; throws ObjectError when there is none */
  typeById(id: number): BtfType;
  /**
   * ids from `firstId` up of named types whose essential name (without a `___flavour`
   * suffix, see essentialNameLength) is `essential` (non-empty), in id order
   */
  idsWithEssentialName(essential: string): number[];
}

/**
 * Length of a name without its flavour: `task_struct___old` → 11. The flavour starts at the
 * last `X___Y` with X and Y not underscores (libbpf's bpf_core_essential_name_len).
 */
export function essentialNameLength(name: string): number {
  for (let i = name.length - 5; i >= 0; i--)
    if (
      name[i] !== "_" &&
      name[i + 1] === "_" &&
      name[i + 2] === "_" &&
      name[i + 3] === "_" &&
      name[i + 4] !== "_"
    )
      return i + 1;
  return name.length;
}

/** Parsed (or built) BTF: the types plus the raw string table they were read from. */
export class Btf implements BtfTypes {
  private byName?: Map<string, number>;
  private readonly stringCache = new Map<number, string>();

  constructor(
    /** index = type id; `types[0]` is void */
    readonly types: readonly BtfType[],
    /** the raw string table (offset 0 is the empty string) */
    readonly strings: Uint8Array = new Uint8Array(1),
  ) {}

  private error(message: string): ObjectError {
    return new ObjectError(message, { section: SECTION });
  }

  get typeCount(): number {
    return this.types.length;
  }

  get firstId(): number {
    return 1;
  }

  idsWithEssentialName(essential: string): number[] {
    const out: number[] = [];
    if (essential === "") return out;
    for (let id = 1; id < this.types.length; id++) {
      const name = this.types[id]!.name;
      if (name.startsWith(essential) && essentialNameLength(name) === essential.length)
        out.push(id);
    }
    return out;
  }

  /** The type with this id; throws an ObjectError naming the id when there is none. */
  typeById(id: number): BtfType {
    const t = Number.isInteger(id) ? this.types[id] : undefined;
    if (t === undefined) {
      throw this.error(`BTF type id ${id} does not exist (BTF has ${this.types.length - 1} types)`);
    }
    return t;
  }

  /** The first type of `kind` named `name`. */
  findByName<K extends BtfKindName>(
    kind: K,
    name: string,
  ): { id: number; type: BtfTypeOf<K> } | undefined {
    if (this.byName === undefined) {
      this.byName = new Map();
      this.types.forEach((t, id) => {
        const key = `${t.kind}:${t.name}`;
        if (t.name !== "" && !this.byName!.has(key)) this.byName!.set(key, id);
      });
    }
    const id = this.byName.get(`${kind}:${name}`);
    return id === undefined ? undefined : { id, type: this.types[id] as BtfTypeOf<K> };
  }

  /** Follow typedef/const/volatile/restrict/type_tag to the underlying type id. */
  resolve(id: number): number {
    let cur = id;
    for (let n = 0; n < MAX_CHAIN; n++) {
      const t = this.typeById(cur);
      switch (t.kind) {
        case "typedef":
        case "const":
        case "volatile":
        case "restrict":
        case "type_tag":
          cur = t.type;
          break;
        default:
          return cur;
      }
    }
    throw this.error(`BTF type id ${id}: modifier chain longer than ${MAX_CHAIN} (a cycle?)`);
  }

  /** Size in bytes of a type (through modifiers, arrays and VARs). */
  sizeOf(id: number): number {
    return this.sizeAt(id, 0);
  }

  private sizeAt(id: number, depth: number): number {
    if (depth > MAX_CHAIN) {
      throw this.error(`BTF type id ${id}: type chain longer than ${MAX_CHAIN} (a cycle?)`);
    }
    const t = this.typeById(id);
    switch (t.kind) {
      case "int":
      case "struct":
      case "union":
      case "enum":
      case "enum64":
      case "datasec":
      case "float":
        return t.size;
      case "ptr":
        return 8;
      case "array": {
        const size = t.nelems * this.sizeAt(t.type, depth + 1);
        if (size > 0xffffffff) throw this.error(`BTF array type id ${id} is larger than 4 GiB`);
        return size;
      }
      case "typedef":
      case "const":
      case "volatile":
      case "restrict":
      case "type_tag":
      case "var":
        return this.sizeAt(t.type, depth + 1);
      default:
        throw this.error(`BTF type id ${id} (${t.kind} ${t.name || "<anon>"}) has no size`);
    }
  }

  /** The NUL-terminated string at `offset` in the string table. */
  stringAt(offset: number): string {
    const hit = this.stringCache.get(offset);
    if (hit !== undefined) return hit;
    const s = readString(this.strings, offset, SECTION);
    this.stringCache.set(offset, s);
    return s;
  }

  /** A readable name for messages: `struct foo`, `int`, `<anon union>`. */
  describe(id: number): string {
    const t = this.typeById(id);
    if (t.kind === "void") return "void";
    const name = t.name === "" ? `<anon ${t.kind}>` : t.name;
    return t.kind === "struct" || t.kind === "union" || t.kind === "enum"
      ? `${t.kind} ${name}`
      : name;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

function readString(table: Uint8Array, offset: number, section: string, base = 0): string {
  if (!Number.isInteger(offset) || offset < 0 || offset >= table.byteLength) {
    throw new ObjectError(
      `string offset ${offset} is outside the string table (${table.byteLength} bytes)`,
      { section, offset: base },
    );
  }
  const end = table.indexOf(0, offset);
  if (end < 0) {
    throw new ObjectError(`string at offset ${offset} is not NUL-terminated`, {
      section,
      offset: base,
    });
  }
  return decodeName(table, offset, end);
}

/**
 * `bytes[start, end)` as UTF-8. BTF names are short ASCII identifiers: building those by hand
 * skips TextDecoder's per-call fixed cost (a C++ round trip, most of a string's cost when
 * parsing an object cold); anything longer or non-ASCII goes to the decoder.
 */
function decodeName(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return utf8.decode(bytes.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return utf8.decode(bytes.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}

// ---- Reading ----

/** Parse a `.BTF` section. Throws ObjectError (section `.BTF`, byte offset) on bad input. */
/** A BTF blob's header checked and its type and string sections cut out (bounds-checked). */
function btfSections(r: ByteReader, split: boolean) {
  const magic = r.u16(0, "BTF header");
  if (magic !== BTF_MAGIC) {
    throw r.error(
      magic === 0x9feb
        ? "big-endian BTF is not supported (eBPF objects here are little-endian)"
        : `bad BTF magic 0x${magic.toString(16)} (want 0xeb9f)`,
      0,
    );
  }
  const version = r.u8(2);
  if (version !== BTF_VERSION) throw r.error(`unsupported BTF version ${version}`, 2);
  const hdrLen = r.u32(4, "BTF header");
  if (hdrLen < BTF_HEADER_LEN) throw r.error(`BTF header length ${hdrLen} is below 24`, 4);
  r.need(0, hdrLen, "BTF header");
  const typeOff = r.u32(8);
  const typeLen = r.u32(12);
  const strOff = r.u32(16);
  const strLen = r.u32(20);
  const typesAt = hdrLen + typeOff;
  const stringsAt = hdrLen + strOff;
  if (typeOff % 4 !== 0) throw r.error(`BTF type section offset ${typeOff} is not 4-aligned`, 8);
  const typeBytes = r.slice(typesAt, typeLen, "BTF type section");
  const strings = r.slice(stringsAt, strLen, "BTF string section");
  // Split BTF (a module's) continues its base's strings: only a base starts with "".
  if (!split && (strLen === 0 || strings[0] !== 0))
    throw r.error("BTF string section must start with the empty string", stringsAt);
  if (strLen > 0 && strings[strLen - 1] !== 0)
    throw r.error("BTF string section does not end with NUL", stringsAt + strLen - 1);
  return { typesAt, typeLen, typeBytes, strings };
}

export function parseBtf(bytes: Uint8Array): Btf {
  const r = new ByteReader(bytes, SECTION);
  const { typesAt, typeLen, typeBytes, strings } = btfSections(r, false);
  const tr = new ByteReader(typeBytes, SECTION, typesAt);
  const str = (off: number, at: number): string => readString(strings, off, SECTION, typesAt + at);
  const types: BtfType[] = [{ kind: "void", name: "" }];
  const typeStart: number[] = [0];
  let off = 0;
  while (off < typeLen) {
    const at = off;
    const id = types.length;
    const [t, next] = readType(tr, off, str, id);
    off = next;
    types.push(t);
    typeStart.push(at);
  }

  // Every reference must name an existing type, so lookups never fail on well-formed ids.
  for (let id = 1; id < types.length; id++) {
    for (const ref of typeRefs(types[id]!)) {
      if (ref >= types.length) {
        throw tr.error(
          `BTF type id ${id} (${types[id]!.kind}) refers to type id ${ref}, but the last id is ${types.length - 1}`,
          typeStart[id]!,
        );
      }
    }
  }
  return new Btf(types, strings.slice());
}

/** Bytes of a type's trailing data after its 12-byte header, per BTF_KIND number. */
export function btfTypeExtraSize(kindNo: number, vlen: number): number {
  switch (kindNo) {
    case BtfKind.INT:
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      return 4;
    case BtfKind.ARRAY:
      return 12;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
    case BtfKind.DATASEC:
    case BtfKind.ENUM64:
      return vlen * 12;
    case BtfKind.ENUM:
    case BtfKind.FUNC_PROTO:
      return vlen * 8;
    default:
      return 0;
  }
}

/**
 * BTF decoded on demand: the kernel's (`/sys/kernel/btf/vmlinux`, ~5 MB, ~100k types) or a
 * module's split BTF on top of it. Parsing indexes the type headers only (one u32 per type);
 * `typeById` decodes a type when asked and keeps it. CO-RE touches a few dozen types, so this
 * costs the raw bytes plus the index instead of an object per type.
 */
export class LazyBtf implements BtfTypes {
  readonly typeCount: number;
  readonly firstId: number;
  private readonly decoded = new Map<number, BtfType>();
  private readonly strCache = new Map<number, string>();

  private constructor(
    private readonly tr: ByteReader,
    /** byte offset (within tr) of each own type's header */
    private readonly offsets: Uint32Array,
    private readonly strings: Uint8Array,
    private readonly base: LazyBtf | undefined,
    private readonly baseStrLen: number,
    /** what errors call this BTF, e.g. "vmlinux BTF" or "BTF of module nf_tables" */
    readonly label: string,
  ) {
    this.firstId = base ? base.typeCount : 1;
    this.typeCount = this.firstId + offsets.length;
  }

  /**
   * Index raw BTF bytes; `base` makes them split BTF (a kernel module's, type ids and string
   * offsets continuing the base's). Throws ObjectError naming `label` on malformed input.
   */
  static parse(bytes: Uint8Array, opts: { base?: LazyBtf; label?: string } = {}): LazyBtf {
    const label = opts.label ?? "BTF";
    const r = new ByteReader(bytes, label);
    const { typesAt, typeLen, typeBytes, strings } = btfSections(r, opts.base !== undefined);
    const tr = new ByteReader(typeBytes, label, typesAt);
    const dv = new DataView(typeBytes.buffer, typeBytes.byteOffset, typeBytes.byteLength);
    const baseStrLen = opts.base ? opts.base.strings.byteLength + opts.base.baseStrLen : 0;
    const baseStrings = opts.base?.strings;
    // One walk over the headers records each type's offset and the bucket key of its name
    // (its first two bytes; 0 when unnamed, as a name never starts with NUL) and counts the
    // keys; a pass over the keys alone then places the ids (a counting sort). The arrays are
    // sized for the most types the section can hold (12 bytes each): pages past the real
    // count are never touched, so they cost address space, not memory.
    const most = Math.floor(typeLen / 12);
    const offsetsAll = new Uint32Array(most);
    const keys = new Uint16Array(most);
    const count = new Uint32Array(65537);
    const ownLen = strings.byteLength;
    let n = 0;
    for (let off = 0; off < typeLen; n++) {
      if (off + 12 > typeLen) throw tr.error("BTF type header is truncated", off);
      const nameOff = dv.getUint32(off, true);
      const info = dv.getUint32(off + 4, true);
      offsetsAll[n] = off;
      if (nameOff !== 0) {
        let key = 0;
        if (nameOff >= baseStrLen) {
          const o = nameOff - baseStrLen;
          if (o < ownLen) key = (strings[o]! << 8) | (o + 1 < ownLen ? strings[o + 1]! : 0);
        } else if (baseStrings && nameOff < baseStrings.byteLength) {
          const bl = baseStrings.byteLength;
          key = (baseStrings[nameOff]! << 8) | (nameOff + 1 < bl ? baseStrings[nameOff + 1]! : 0);
        }
        keys[n] = key;
        if (key !== 0) count[key + 1]!++;
      }
      const next = off + 12 + btfTypeExtraSize((info >>> 24) & 0x1f, info & 0xffff);
      if (next > typeLen) throw tr.error("BTF type extends past the type section", off);
      off = next;
    }
    const offsets = offsetsAll.subarray(0, n);
    for (let i = 1; i <= 65536; i++) count[i]! += count[i - 1]!;
    const start = count.slice();
    const ids = new Uint32Array(count[65536]!);
    for (let k = 0; k < n; k++) {
      const key = keys[k]!;
      if (key !== 0) ids[count[key]!++] = k;
    }
    const btf = new LazyBtf(tr, offsets, strings, opts.base, baseStrLen, label);
    btf.buckets = { start, ids };
    return btf;
  }

  typeById(id: number): BtfType {
    if (id === 0) return VOID;
    if (this.base && id < this.firstId) return this.base.typeById(id);
    const hit = this.decoded.get(id);
    if (hit) return hit;
    const off = Number.isInteger(id) ? this.offsets[id - this.firstId] : undefined;
    if (off === undefined) {
      throw new ObjectError(
        `BTF type id ${id} does not exist (${this.label} has ids up to ${this.typeCount - 1})`,
        { section: this.label },
      );
    }
    const [t] = readType(this.tr, off, (o, at) => this.stringAt(o, at), id);
    this.decoded.set(id, t);
    return t;
  }

  /** The string at `offset` (split BTF: offsets below the base's string size are the base's). */
  stringAt(offset: number, at = 0): string {
    if (offset < this.baseStrLen) return this.base!.stringAt(offset, at);
    const hit = this.strCache.get(offset);
    if (hit !== undefined) return hit;
    const s = readString(this.strings, offset - this.baseStrLen, this.label, at);
    this.strCache.set(offset, s);
    return s;
  }

  /** Own type indices bucketed by the first two bytes of their names (built by parse). */
  private buckets!: { start: Uint32Array; ids: Uint32Array };

  /** The name bytes of own type `k` (its table and offset), or undefined when unnamed. */
  private nameAt(k: number, dv: DataView): [Uint8Array, number] | undefined {
    const nameOff = dv.getUint32(this.offsets[k]!, true);
    if (nameOff === 0) return undefined;
    if (nameOff >= this.baseStrLen) {
      const o = nameOff - this.baseStrLen;
      return o < this.strings.byteLength ? [this.strings, o] : undefined;
    }
    // a split BTF's type named by a base string (one level of split only)
    const base = this.base?.strings;
    return base && nameOff < base.byteLength ? [base, nameOff] : undefined;
  }

  idsWithEssentialName(essential: string): number[] {
    const out: number[] = [];
    if (essential === "") return out;
    const want = new TextEncoder().encode(essential);
    const bytes = this.tr.bytes;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const { start, ids } = this.buckets;
    // one bucket for two or more bytes; all 256 buckets of the first byte for one
    const lo = want.length >= 2 ? (want[0]! << 8) | want[1]! : want[0]! << 8;
    const hi = want.length >= 2 ? lo + 1 : lo + 256;
    for (let i = start[lo]!; i < start[hi]!; i++) {
      const k = ids[i]!;
      const [table, o] = this.nameAt(k, dv)!;
      if (o + want.length > table.byteLength) continue;
      let match = true;
      for (let j = 0; j < want.length; j++)
        if (table[o + j] !== want[j]) {
          match = false;
          break;
        }
      if (!match) continue;
      // the prefix matches: only the name (not the type) is decoded to check the flavour
      const name = this.stringAt(dv.getUint32(this.offsets[k]!, true));
      if (essentialNameLength(name) === essential.length) out.push(this.firstId + k);
    }
    return out.sort((a, b) => a - b);
  }
}

const VOID: BtfVoid = { kind: "void", name: "" };

/**
 * Decode the type whose 12-byte header is at `off` of `tr` (names through `str`); returns it
 * and the offset just past its trailing data. Shared by parseBtf and KernelBtf.
 */
function readType(
  tr: ByteReader,
  start: number,
  str: (off: number, at: number) => string,
  id: number,
): [BtfType, number] {
  let off = start;
  const at = start;
  const name = str(tr.u32(off, "BTF type"), at);
  const info = tr.u32(off + 4, "BTF type");
  const sizeOrType = tr.u32(off + 8, "BTF type");
  off += 12;
  const vlen = info & 0xffff;
  const kindNo = (info >>> 24) & 0x1f;
  const kindFlag = info >>> 31 === 1;
  let t: BtfType;
  switch (KIND_BY_NUMBER[kindNo]) {
    case "int": {
      const v = tr.u32(off, "BTF int encoding");
      off += 4;
      t = {
        kind: "int",
        name,
        size: sizeOrType,
        encoding: (v >>> 24) & 0x0f,
        bitOffset: (v >>> 16) & 0xff,
        bits: v & 0xff,
      };
      break;
    }
    case "ptr":
      t = { kind: "ptr", name, type: sizeOrType };
      break;
    case "array":
      t = {
        kind: "array",
        name,
        type: tr.u32(off, "BTF array"),
        indexType: tr.u32(off + 4, "BTF array"),
        nelems: tr.u32(off + 8, "BTF array"),
      };
      off += 12;
      break;
    case "struct":
    case "union": {
      tr.need(off, vlen * 12, `BTF struct with ${vlen} members`);
      const members: BtfMember[] = [];
      for (let k = 0; k < vlen; k++, off += 12) {
        const raw = tr.u32(off + 8);
        members.push({
          name: str(tr.u32(off), off),
          type: tr.u32(off + 4),
          bitOffset: kindFlag ? raw & 0xffffff : raw,
          bitfieldSize: kindFlag ? raw >>> 24 : 0,
        });
      }
      t = {
        kind: kindNo === BtfKind.STRUCT ? "struct" : "union",
        name,
        size: sizeOrType,
        kindFlag,
        members,
      };
      break;
    }
    case "enum": {
      tr.need(off, vlen * 8, `BTF enum with ${vlen} values`);
      const values: BtfEnum["values"] = [];
      for (let k = 0; k < vlen; k++, off += 8) {
        const v = kindFlag ? tr.i32(off + 4) : tr.u32(off + 4);
        values.push({ name: str(tr.u32(off), off), value: v });
      }
      t = { kind: "enum", name, size: sizeOrType, signed: kindFlag, values };
      break;
    }
    case "enum64": {
      tr.need(off, vlen * 12, `BTF enum64 with ${vlen} values`);
      const values: BtfEnum64["values"] = [];
      for (let k = 0; k < vlen; k++, off += 12) {
        const raw = (BigInt(tr.u32(off + 8)) << 32n) | BigInt(tr.u32(off + 4));
        values.push({
          name: str(tr.u32(off), off),
          value: kindFlag ? BigInt.asIntN(64, raw) : raw,
        });
      }
      t = { kind: "enum64", name, size: sizeOrType, signed: kindFlag, values };
      break;
    }
    case "fwd":
      t = { kind: "fwd", name, union: kindFlag };
      break;
    case "typedef":
    case "volatile":
    case "const":
    case "restrict":
    case "type_tag":
      t = { kind: KIND_BY_NUMBER[kindNo] as BtfRef["kind"], name, type: sizeOrType };
      break;
    case "func":
      t = { kind: "func", name, type: sizeOrType, linkage: vlen };
      break;
    case "func_proto": {
      tr.need(off, vlen * 8, `BTF func_proto with ${vlen} params`);
      const params: BtfFuncProto["params"] = [];
      for (let k = 0; k < vlen; k++, off += 8) {
        params.push({ name: str(tr.u32(off), off), type: tr.u32(off + 4) });
      }
      t = { kind: "func_proto", name, returnType: sizeOrType, params };
      break;
    }
    case "var":
      t = { kind: "var", name, type: sizeOrType, linkage: tr.u32(off, "BTF var") };
      off += 4;
      break;
    case "datasec": {
      tr.need(off, vlen * 12, `BTF datasec with ${vlen} variables`);
      const vars: BtfVarSecinfo[] = [];
      for (let k = 0; k < vlen; k++, off += 12) {
        vars.push({ type: tr.u32(off), offset: tr.u32(off + 4), size: tr.u32(off + 8) });
      }
      t = { kind: "datasec", name, size: sizeOrType, vars };
      break;
    }
    case "float":
      t = { kind: "float", name, size: sizeOrType };
      break;
    case "decl_tag":
      t = {
        kind: "decl_tag",
        name,
        type: sizeOrType,
        componentIdx: tr.i32(off, "BTF decl_tag"),
      };
      off += 4;
      break;
    default:
      throw tr.error(`BTF type id ${id} has unknown kind ${kindNo}`, at);
  }
  return [t, off];
}

// ---- Writing ----

/** Deduplicating string table; optionally seeded with an existing table kept verbatim. */
export class StringTable {
  private readonly w = new ByteWriter();
  private readonly index = new Map<string, number>();
  private readonly enc = new TextEncoder();

  constructor(seed?: Uint8Array) {
    if (seed !== undefined && seed.byteLength > 0 && seed[seed.byteLength - 1] === 0) {
      this.w.bytes(seed);
      let start = 0;
      while (start < seed.byteLength) {
        const end = seed.indexOf(0, start);
        const s = utf8.decode(seed.subarray(start, end));
        if (!this.index.has(s)) this.index.set(s, start);
        start = end + 1;
      }
    } else {
      this.w.u8(0);
      this.index.set("", 0);
    }
  }

  /** Offset of `s`, appending it if new. */
  add(s: string): number {
    const hit = this.index.get(s);
    if (hit !== undefined) return hit;
    const off = this.w.length;
    this.w.bytes(this.enc.encode(s));
    this.w.u8(0);
    this.index.set(s, off);
    return off;
  }

  encode(): Uint8Array {
    return this.w.finish();
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Kernel btf_name_valid_section: printable, no spaces; clang uses ".data", ".rodata.str1.1"…
const SECTION_NAME = /^[\x21-\x7e]+$/;

function encodeType(t: BtfType, w: ByteWriter, strings: StringTable): void {
  const head = (kind: BtfKindName, vlen: number, kindFlag: boolean, sizeOrType: number): void => {
    w.u32(strings.add(t.name));
    w.u32(((kindFlag ? 1 : 0) << 31) | (kindNumber(kind) << 24) | (vlen & 0xffff));
    w.u32(sizeOrType);
  };
  switch (t.kind) {
    case "void":
      throw bug("BTF void (id 0) is implicit and cannot be encoded");
    case "int":
      head("int", 0, false, t.size);
      w.u32(((t.encoding & 0x0f) << 24) | ((t.bitOffset & 0xff) << 16) | (t.bits & 0xff));
      break;
    case "ptr":
      head("ptr", 0, false, t.type);
      break;
    case "array":
      head("array", 0, false, 0);
      w.u32(t.type);
      w.u32(t.indexType);
      w.u32(t.nelems);
      break;
    case "struct":
    case "union":
      head(t.kind, t.members.length, t.kindFlag, t.size);
      for (const m of t.members) {
        w.u32(strings.add(m.name));
        w.u32(m.type);
        w.u32(
          t.kindFlag ? ((m.bitfieldSize & 0xff) << 24) | (m.bitOffset & 0xffffff) : m.bitOffset,
        );
      }
      break;
    case "enum":
      head("enum", t.values.length, t.signed, t.size);
      for (const v of t.values) {
        w.u32(strings.add(v.name));
        w.u32(v.value);
      }
      break;
    case "enum64":
      head("enum64", t.values.length, t.signed, t.size);
      for (const v of t.values) {
        const raw = BigInt.asUintN(64, v.value);
        w.u32(strings.add(v.name));
        w.u32(Number(raw & 0xffffffffn));
        w.u32(Number(raw >> 32n));
      }
      break;
    case "fwd":
      head("fwd", 0, t.union, 0);
      break;
    case "typedef":
    case "volatile":
    case "const":
    case "restrict":
    case "type_tag":
      head(t.kind, 0, false, t.type);
      break;
    case "func":
      head("func", t.linkage, false, t.type);
      break;
    case "func_proto":
      head("func_proto", t.params.length, false, t.returnType);
      for (const p of t.params) {
        w.u32(strings.add(p.name));
        w.u32(p.type);
      }
      break;
    case "var":
      head("var", 0, false, t.type);
      w.u32(t.linkage);
      break;
    case "datasec":
      head("datasec", t.vars.length, false, t.size);
      for (const v of t.vars) {
        w.u32(v.type);
        w.u32(v.offset);
        w.u32(v.size);
      }
      break;
    case "float":
      head("float", 0, false, t.size);
      break;
    case "decl_tag":
      head("decl_tag", 0, false, t.type);
      w.i32(t.componentIdx);
      break;
  }
}

function encodeAll(types: readonly BtfType[], strings: StringTable): Uint8Array {
  const tw = new ByteWriter();
  for (let id = 1; id < types.length; id++) encodeType(types[id]!, tw, strings);
  const typeBytes = tw.finish();
  const strBytes = strings.encode();
  const w = new ByteWriter();
  writeBtfHeader(w, [typeBytes.byteLength, strBytes.byteLength]);
  w.bytes(typeBytes);
  w.bytes(strBytes);
  return w.finish();
}

/**
 * The header `.BTF` and `.BTF.ext` share: magic, version, flags 0, header length, then one
 * (offset, length) u32 pair per section, the sections laid out back to back right after it.
 */
export function writeBtfHeader(w: ByteWriter, sectionLengths: readonly number[]): void {
  w.u16(BTF_MAGIC);
  w.u8(BTF_VERSION);
  w.u8(0);
  w.u32(8 + 8 * sectionLengths.length);
  let off = 0;
  for (const len of sectionLengths) {
    w.u32(off);
    w.u32(len);
    off += len;
  }
}

/**
 * Encode a (possibly fixed-up) Btf. The original string table is kept verbatim at the front,
 * so string offsets used by `.BTF.ext` line info stay valid for the kernel.
 */
export function encodeBtf(btf: Btf): Uint8Array {
  return encodeAll(btf.types, new StringTable(btf.strings));
}

/**
 * Fill DATASEC sizes and VAR offsets the way libbpf does before loading: clang writes them
 * as zero in relocatable objects. `sectionSizes` maps ELF section name → size;
 * `symbolOffsets` maps section name → (symbol name → st_value). Pure: returns a new Btf.
 * Extern sections (.kconfig, .ksyms) and sections absent from `sectionSizes` are left alone.
 */
export function fixupDatasecs(
  btf: Btf,
  sectionSizes: ReadonlyMap<string, number>,
  symbolOffsets: ReadonlyMap<string, ReadonlyMap<string, number>>,
): Btf {
  const types = btf.types.map((t) => {
    if (t.kind !== "datasec") return t;
    const size = sectionSizes.get(t.name);
    if (size === undefined || t.name === ".kconfig" || t.name === ".ksyms") return t;
    const syms = symbolOffsets.get(t.name);
    const vars = t.vars.map((v) => {
      const vt = btf.typeById(v.type);
      if (vt.kind !== "var") return { ...v };
      const offset = syms?.get(vt.name);
      if (offset === undefined) {
        throw new ObjectError(
          `variable '${vt.name}' of DATASEC ${t.name} has no ELF symbol; cannot place it`,
          { section: SECTION },
        );
      }
      return { ...v, offset };
    });
    // The kernel requires secinfos sorted by offset and non-overlapping.
    vars.sort((a, b) => a.offset - b.offset);
    return { ...t, size, vars };
  });
  return new Btf(types, btf.strings);
}

type Linkage = number | "static" | "global" | "extern";
const linkageNumber = (l: Linkage): number =>
  typeof l === "number" ? l : l === "static" ? 0 : l === "global" ? 1 : 2;

/**
 * Builds BTF for the compiler. Each `add*` returns the new type's id; ids are assigned in
 * call order starting at 1. Names are checked against the kernel's rules up front so a bad
 * name fails here, not in BPF_BTF_LOAD.
 */
export class BtfBuilder {
  private readonly types: BtfType[] = [{ kind: "void", name: "" }];
  private readonly strings = new StringTable();
  private arrayIndexType?: number;

  /** Number of types added so far (= last id). */
  get count(): number {
    return this.types.length - 1;
  }

  /** The type with this id as added so far. */
  get(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined) throw bug(`BTF type id ${id} has not been added`);
    return t;
  }

  /** Offset of a string in the string table (for `.BTF.ext` file and line strings). */
  addString(s: string): number {
    return this.strings.add(s);
  }

  /** Append a type as-is (after validating names and references); returns its id. */
  add(t: BtfType): number {
    this.check(t);
    this.types.push(t);
    return this.types.length - 1;
  }

  /** Replace a previously added type (e.g. a struct completed after a forward reference). */
  replace(id: number, t: BtfType): void {
    this.get(id);
    if (id === 0) throw bug("BTF type id 0 (void) cannot be replaced");
    this.check(t);
    this.types[id] = t;
  }

  private check(t: BtfType): void {
    const ident = (n: string, what: string, optional: boolean): void => {
      if ((optional && n === "") || IDENT.test(n)) return;
      throw bug(`BTF ${what} name '${n}' is not a C identifier`);
    };
    switch (t.kind) {
      case "struct":
      case "union":
        ident(t.name, t.kind, true);
        for (const m of t.members) ident(m.name, `${t.kind} ${t.name} member`, true);
        break;
      case "enum":
      case "enum64":
        ident(t.name, t.kind, true);
        for (const v of t.values) ident(v.name, `${t.kind} ${t.name} value`, false);
        break;
      case "typedef":
      case "fwd":
      case "func":
      case "var":
      case "decl_tag":
      case "type_tag":
        ident(t.name, t.kind, false);
        break;
      case "func_proto":
        for (const p of t.params) ident(p.name, "parameter", true);
        break;
      case "datasec":
        if (!SECTION_NAME.test(t.name)) throw bug(`BTF datasec name '${t.name}' is invalid`);
        break;
      case "int":
        if (t.name === "") throw bug("BTF int needs a name");
        if (![1, 2, 4, 8, 16].includes(t.size) || t.bitOffset + t.bits > t.size * 8) {
          throw bug(`BTF int ${t.name}: size ${t.size} / ${t.bits} bits is invalid`);
        }
        if (![0, 1, 2, 4].includes(t.encoding)) {
          throw bug(`BTF int ${t.name}: the kernel accepts one encoding bit at most`);
        }
        break;
      case "float":
        if (t.name === "") throw bug("BTF float needs a name");
        break;
      default:
        break;
    }
    for (const ref of typeRefs(t)) {
      // Forward references are legal in BTF (a struct member may point at a later type), so
      // only reject ids that can never exist.
      if (!Number.isInteger(ref) || ref < 0 || ref > 0x7fffffff) {
        throw bug(`BTF ${t.kind} ${t.name} refers to invalid type id ${ref}`);
      }
    }
  }

  /**
   * An integer type. The kernel accepts at most one encoding bit, so `char`/`bool` take
   * precedence over `signed` (clang itself encodes C `char` as plain SIGNED).
   */
  addInt(
    name: string,
    size: number,
    signed: boolean,
    opts?: { char?: boolean; bool?: boolean },
  ): number {
    const encoding = opts?.bool
      ? BtfIntEncoding.BOOL
      : opts?.char
        ? BtfIntEncoding.CHAR
        : signed
          ? BtfIntEncoding.SIGNED
          : 0;
    return this.add({ kind: "int", name, size, encoding, bitOffset: 0, bits: size * 8 });
  }

  addFloat(name: string, size: number): number {
    return this.add({ kind: "float", name, size });
  }

  addPtr(type: number): number {
    return this.add({ kind: "ptr", name: "", type });
  }

  /** `indexType` defaults to clang's `__ARRAY_SIZE_TYPE__` (a 4-byte int), added once. */
  addArray(type: number, nelems: number, indexType?: number): number {
    if (indexType === undefined) {
      this.arrayIndexType ??= this.addInt("__ARRAY_SIZE_TYPE__", 4, false);
      indexType = this.arrayIndexType;
    }
    return this.add({ kind: "array", name: "", type, indexType, nelems });
  }

  addStruct(
    name: string,
    members: { name: string; type: number; bitOffset: number; bitfieldSize?: number }[],
    size: number,
  ): number {
    return this.add(compound("struct", name, members, size));
  }

  addUnion(
    name: string,
    members: { name: string; type: number; bitOffset: number; bitfieldSize?: number }[],
    size: number,
  ): number {
    return this.add(compound("union", name, members, size));
  }

  addEnum(
    name: string,
    values: { name: string; value: number }[],
    size = 4,
    signed = false,
  ): number {
    return this.add({ kind: "enum", name, size, signed, values });
  }

  addEnum64(name: string, values: { name: string; value: bigint }[], signed = false): number {
    return this.add({ kind: "enum64", name, size: 8, signed, values });
  }

  addFwd(name: string, union = false): number {
    return this.add({ kind: "fwd", name, union });
  }

  addTypedef(name: string, type: number): number {
    return this.add({ kind: "typedef", name, type });
  }
  addConst(type: number): number {
    return this.add({ kind: "const", name: "", type });
  }
  addVolatile(type: number): number {
    return this.add({ kind: "volatile", name: "", type });
  }
  addRestrict(type: number): number {
    return this.add({ kind: "restrict", name: "", type });
  }
  addTypeTag(name: string, type: number): number {
    return this.add({ kind: "type_tag", name, type });
  }
  addDeclTag(name: string, type: number, componentIdx = -1): number {
    return this.add({ kind: "decl_tag", name, type, componentIdx });
  }

  addFuncProto(returnType: number, params: { name: string; type: number }[]): number {
    return this.add({ kind: "func_proto", name: "", returnType, params });
  }

  addFunc(name: string, protoId: number, linkage: Linkage = "global"): number {
    return this.add({ kind: "func", name, type: protoId, linkage: linkageNumber(linkage) });
  }

  addVar(name: string, type: number, linkage: Linkage = "global"): number {
    return this.add({ kind: "var", name, type, linkage: linkageNumber(linkage) });
  }

  addDatasec(name: string, vars: BtfVarSecinfo[], size: number): number {
    return this.add({ kind: "datasec", name, size, vars });
  }

  /** Encode header, types and strings. Every reference must name an added type. */
  encode(): Uint8Array {
    for (let id = 1; id < this.types.length; id++) {
      for (const ref of typeRefs(this.types[id]!)) {
        if (ref >= this.types.length) {
          throw bug(
            `BTF type id ${id} (${this.types[id]!.kind} ${this.types[id]!.name}) refers to type id ${ref}, which was never added`,
          );
        }
      }
    }
    return encodeAll(this.types, this.strings);
  }

  /** The built types as a Btf (by encoding and parsing back, so it matches what loads). */
  toBtf(): Btf {
    return parseBtf(this.encode());
  }
}

function compound(
  kind: "struct" | "union",
  name: string,
  members: { name: string; type: number; bitOffset: number; bitfieldSize?: number }[],
  size: number,
): BtfStruct {
  const kindFlag = members.some((m) => (m.bitfieldSize ?? 0) > 0);
  return {
    kind,
    name,
    size,
    kindFlag,
    members: members.map((m) => ({
      name: m.name,
      type: m.type,
      bitOffset: m.bitOffset,
      bitfieldSize: m.bitfieldSize ?? 0,
    })),
  };
}
