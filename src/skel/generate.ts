// Typed skeletons (bpftool gen skeleton, bpf2go): the TypeScript module `tsbpf build` writes
// next to each object. It declares the object's structs with tsbpf/types (from the object's
// BTF, or the probe's own types for event records), lists programs, maps with their key,
// value and event types, and global variables, and wraps a load in a class whose maps are
// typed BpfMaps and whose events arrive decoded. Pure: object bytes in, source text out.
import { parseObject } from "../obj/object.js";
import { LOG_DROPS_GLOBAL, LOG_LEVEL_GLOBAL, LOG_MAP } from "../obj/log-section.js";

/** The globals a probe that logs gets from the compiler: set through the log API, not here. */
const LOG_GLOBALS: ReadonlySet<string> = new Set([LOG_LEVEL_GLOBAL, LOG_DROPS_GLOBAL]);
import type { Btf, BtfType } from "../obj/btf.js";
import { BtfIntEncoding } from "../obj/btf.js";
import { MapType, nameOf } from "../obj/consts.js";
import type { Type } from "../types/type.js";

/** A type as the skeleton writes it. */
type Model =
  | { kind: "int"; name: string; size: number }
  | { kind: "bytes"; size: number }
  | { kind: "array"; element: Model; length: number }
  | {
      kind: "struct";
      name: string;
      fields: { name: string; type: Model }[];
      size: number;
      align: number;
    };

const INT_NAMES: Record<string, string> = {
  "1u": "u8",
  "1s": "i8",
  "2u": "u16",
  "2s": "i16",
  "4u": "u32",
  "4s": "i32",
  "8u": "u64",
  "8s": "i64",
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

const sizeOf = (m: Model): number =>
  m.kind === "int"
    ? m.size
    : m.kind === "bytes"
      ? m.size
      : m.kind === "array"
        ? sizeOf(m.element) * m.length
        : m.size;
const alignOf = (m: Model): number =>
  m.kind === "int"
    ? m.size
    : m.kind === "bytes"
      ? 1
      : m.kind === "array"
        ? alignOf(m.element)
        : m.align;
const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Builds a struct model at the BTF's offsets: padding where BTF leaves a gap; undefined when a
 *  member sits before its natural offset (a packed struct tsbpf/types cannot lay out). */
function structModel(
  name: string,
  members: { name: string; offset: number; type: Model }[],
  size: number,
): Model | undefined {
  const fields: { name: string; type: Model }[] = [];
  let end = 0;
  let align = 1;
  let pad = 0;
  for (const m of members) {
    const a = alignOf(m.type);
    const natural = alignUp(end, a);
    // before its natural place (packed) or off its alignment: tsbpf/types cannot lay it out
    if (m.offset < natural || m.offset % a !== 0) return undefined;
    if (alignUp(end, a) !== m.offset) {
      fields.push({ name: `_pad${pad++}`, type: { kind: "bytes", size: m.offset - end } });
    }
    fields.push({ name: m.name, type: m.type });
    end = m.offset + sizeOf(m.type);
    align = Math.max(align, a);
  }
  const natural = alignUp(end, align);
  if (natural > size) return undefined;
  if (natural < size)
    fields.push({ name: `_pad${pad}`, type: { kind: "bytes", size: size - end } });
  // with a tail pad the natural size still rounds to `size` only if size is a multiple of align
  if (alignUp(size, align) !== size) return undefined;
  return { kind: "struct", name, fields, size, align };
}

/** BTF types to models, with struct names made unique. */
class FromBtf {
  readonly structs = new Map<number, Model>();
  private readonly names = new Set<string>();

  constructor(
    private readonly btf: Btf,
    private readonly used: Set<string>,
  ) {}

  uniqueName(base: string): string {
    let n = base.replace(/[^A-Za-z0-9_]/g, "_") || "Anon";
    if (!/^[A-Za-z_]/.test(n)) n = `_${n}`;
    let out = n;
    for (let i = 2; this.used.has(out) || RESERVED.has(out); i++) out = `${n}${i}`;
    this.used.add(out);
    this.names.add(out);
    return out;
  }

  model(id: number, hint: string, depth = 0): Model {
    const btf = this.btf;
    if (depth > 32) return { kind: "bytes", size: btf.sizeOf(id) };
    let t: BtfType = btf.typeById(id);
    let be: string | undefined;
    let cur = id;
    while (
      t.kind === "typedef" ||
      t.kind === "const" ||
      t.kind === "volatile" ||
      t.kind === "restrict" ||
      t.kind === "type_tag"
    ) {
      if (t.kind === "typedef" && (t.name === "__be16" || t.name === "__be32"))
        be = t.name.slice(2);
      cur = t.type;
      t = btf.typeById(cur);
    }
    switch (t.kind) {
      case "int": {
        if (t.bits !== t.size * 8 || t.bitOffset !== 0 || t.size > 8)
          return { kind: "bytes", size: t.size };
        if (be && ((be === "be16" && t.size === 2) || (be === "be32" && t.size === 4)))
          return { kind: "int", name: be, size: t.size };
        const signed = (t.encoding & BtfIntEncoding.SIGNED) !== 0;
        return { kind: "int", name: INT_NAMES[`${t.size}${signed ? "s" : "u"}`]!, size: t.size };
      }
      case "enum":
      case "enum64":
        return t.size <= 8 && INT_NAMES[`${t.size}${t.signed ? "s" : "u"}`]
          ? { kind: "int", name: INT_NAMES[`${t.size}${t.signed ? "s" : "u"}`]!, size: t.size }
          : { kind: "bytes", size: t.size };
      case "ptr":
        return { kind: "int", name: "u64", size: 8 };
      case "array": {
        const elem = this.model(t.type, hint, depth + 1);
        if (t.nelems === 0) return { kind: "bytes", size: 0 };
        return sizeOf(elem) === 1
          ? { kind: "bytes", size: t.nelems }
          : { kind: "array", element: elem, length: t.nelems };
      }
      case "struct": {
        const hit = this.structs.get(cur);
        if (hit) return hit;
        const bitfields = t.members.some((m) => m.bitfieldSize > 0 || m.bitOffset % 8 !== 0);
        const members = t.members.map((m, i) => ({
          name: m.name && IDENT.test(m.name) ? m.name : `_anon${i}`,
          offset: m.bitOffset / 8,
          type: this.model(m.type, `${t.name || hint}_${m.name || i}`, depth + 1),
        }));
        const name = this.uniqueName(t.name || hint);
        const s = bitfields ? undefined : structModel(name, members, t.size);
        const model = s ?? { kind: "bytes" as const, size: t.size };
        this.structs.set(cur, model);
        return model;
      }
      default:
        try {
          return { kind: "bytes", size: btf.sizeOf(cur) };
        } catch {
          return { kind: "bytes", size: 0 };
        }
    }
  }
}

/** A tsbpf/types Type (the probe's own event record type) as a model. */
function fromType(t: Type, used: Set<string>, seen: Map<Type, Model>): Model {
  const hit = seen.get(t);
  if (hit) return hit;
  const x = t as unknown as {
    kind: string;
    name?: string;
    size: number;
    align: number;
    element?: Type;
    length?: number;
    fields?: readonly { name: string; offset: number; type: Type }[];
  };
  if (x.kind === "int") return { kind: "int", name: x.name!, size: x.size };
  if (x.kind === "array") {
    const e = fromType(x.element!, used, seen);
    return sizeOf(e) === 1 && e.kind === "int" && e.name === "u8"
      ? { kind: "bytes", size: x.length! }
      : { kind: "array", element: e, length: x.length! };
  }
  let name = x.name ?? "Record";
  for (let i = 2; used.has(name) || RESERVED.has(name); i++) name = `${x.name ?? "Record"}${i}`;
  used.add(name);
  const m: Model = {
    kind: "struct",
    name,
    fields: (x.fields ?? []).map((f) => ({ name: f.name, type: fromType(f.type, used, seen) })),
    size: x.size,
    align: x.align,
  };
  seen.set(t, m);
  return m;
}

const RESERVED = new Set([
  "elf",
  "programs",
  "maps",
  "globals",
  "Loader",
  "Loaded",
  "BpfMap",
  "PerCpuMap",
  "struct",
  "array",
  "bytes",
  "Infer",
  "u8",
  "u16",
  "u32",
  "u64",
  "i8",
  "i16",
  "i32",
  "i64",
  "be16",
  "be32",
]);

function expr(m: Model): string {
  switch (m.kind) {
    case "int":
      return m.name;
    case "bytes":
      return `bytes(${m.size})`;
    case "array":
      return `array(${expr(m.element)}, ${m.length})`;
    case "struct":
      return m.name;
  }
}

/** The TypeScript type a model decodes to. */
function tsType(m: Model): string {
  switch (m.kind) {
    case "int":
      return m.name === "u64" || m.name === "i64" ? "bigint" : "number";
    case "bytes":
      return "Uint8Array";
    case "array":
      return `${tsType(m.element)}[]`;
    case "struct":
      return m.name;
  }
}

function collectStructs(m: Model, out: Model[]): void {
  if (m.kind === "array") collectStructs(m.element, out);
  if (m.kind !== "struct" || out.includes(m)) return;
  for (const f of m.fields) collectStructs(f.type, out);
  out.push(m);
}

export interface SkeletonOptions {
  /** object name (the class is its PascalCase) */
  name: string;
  /** where the loader finds the ELF, relative to its working directory (without `embed`) */
  elfPath: string;
  /** put the ELF bytes into the module (base64), so the module alone is what a loader needs */
  embed?: boolean;
  /** the probe that was compiled, for the header */
  source?: string;
  /** event record types of event maps (PerfMap/RingBuf), from the probe's declarations */
  eventTypes?: ReadonlyMap<string, Type>;
}

const pascal = (s: string): string =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("") || "Probe";

const EVENT_TYPES: ReadonlySet<number> = new Set([MapType.PERF_EVENT_ARRAY, MapType.RINGBUF]);
const PER_CPU: ReadonlySet<number> = new Set([
  MapType.PERCPU_ARRAY,
  MapType.PERCPU_HASH,
  MapType.LRU_PERCPU_HASH,
  MapType.PERCPU_CGROUP_STORAGE,
]);
const KEYED: ReadonlySet<number> = new Set([
  MapType.HASH,
  MapType.ARRAY,
  MapType.LRU_HASH,
  MapType.LPM_TRIE,
  ...PER_CPU,
]);

/** The skeleton module's source text for object `elf`. */
export function generateSkeleton(elf: Uint8Array, opts: SkeletonOptions): string {
  const object = parseObject(elf);
  const used = new Set<string>();
  const btf = object.btf;
  const conv = btf ? new FromBtf(btf, used) : undefined;
  const seen = new Map<Type, Model>();
  const cls = pascal(opts.name);
  used.add(cls);

  interface MapOut {
    name: string;
    kind: string;
    key?: Model;
    value?: Model;
    event?: Model;
    perCpu: boolean;
  }
  const maps: MapOut[] = [];
  const globals: { name: string; type: Model; section: string }[] = [];
  const logs = object.logFormats !== undefined;
  for (const m of object.maps) {
    const spec = m;
    if (spec.global?.kind === "kconfig") continue; // filled by the loader, not set by users
    if (logs && spec.name === LOG_MAP) continue; // read by logs(), formatted
    if (spec.global !== undefined) {
      // global data: one variable per DATASEC entry
      const ds = btf && spec.btfValueTypeId ? btf.typeById(spec.btfValueTypeId) : undefined;
      if (ds?.kind === "datasec" && conv)
        for (const v of ds.vars) {
          const vt = btf!.typeById(v.type);
          if (vt.kind === "var" && IDENT.test(vt.name) && !(logs && LOG_GLOBALS.has(vt.name)))
            globals.push({ name: vt.name, type: conv.model(vt.type, vt.name), section: ds.name });
        }
      continue;
    }
    const out: MapOut = {
      name: spec.name,
      kind: nameOf(MapType, spec.type).toLowerCase(),
      perCpu: PER_CPU.has(spec.type),
    };
    if (EVENT_TYPES.has(spec.type)) {
      const t = opts.eventTypes?.get(spec.name);
      // without the probe's record type (a clang object), events stay bytes
      out.event = t ? fromType(t, used, seen) : { kind: "bytes", size: 0 };
    } else if (KEYED.has(spec.type)) {
      out.key =
        conv && spec.btfKeyTypeId
          ? conv.model(spec.btfKeyTypeId, `${spec.name}_key`)
          : bytesOrInt(spec.keySize);
      out.value =
        conv && spec.btfValueTypeId
          ? conv.model(spec.btfValueTypeId, `${spec.name}_value`)
          : bytesOrInt(spec.valueSize);
    }
    if (IDENT.test(out.name)) maps.push(out);
  }

  const structs: Model[] = [];
  for (const m of maps)
    for (const t of [m.key, m.value, m.event]) if (t) collectStructs(t, structs);
  for (const g of globals) collectStructs(g.type, structs);

  const L: string[] = [];
  L.push("");
  for (const s of structs) {
    if (s.kind !== "struct") continue;
    L.push(`export const ${s.name} = struct("${s.name}", {`);
    for (const f of s.fields) L.push(`  ${f.name}: ${expr(f.type)},`);
    L.push("});");
    L.push(`export type ${s.name} = Infer<typeof ${s.name}>;`);
    L.push("");
  }
  if (opts.embed) {
    const b64 = Buffer.from(elf).toString("base64");
    L.push(
      `/** ${opts.name}.elf itself (${elf.length} bytes), so this module is all a loader needs. */`,
    );
    L.push(`export const elf: Uint8Array = Uint8Array.from(atob(`);
    for (let i = 0; i < b64.length; i += 96)
      L.push(`  ${JSON.stringify(b64.slice(i, i + 96))}${i + 96 < b64.length ? " +" : ""}`);
    L.push("), (c) => c.charCodeAt(0));");
  } else {
    L.push(
      `/** Where the object is, relative to the directory the loader runs in (\`tsbpf build --embed\` puts its bytes here instead). */`,
    );
    L.push(`export const elf: string = ${JSON.stringify(opts.elfPath)};`);
  }
  L.push("");
  L.push("/** The programs, by name, with their ELF sections. */");
  L.push("export const programs = {");
  for (const p of object.programs)
    L.push(
      `  ${IDENT.test(p.name) ? p.name : JSON.stringify(p.name)}: { section: ${JSON.stringify(p.section)} },`,
    );
  L.push("} as const;");
  L.push("");
  L.push(
    "/** The maps: kind, and the key/value (or event record) types their entries decode with. */",
  );
  L.push("export const maps = {");
  for (const m of maps) {
    const parts = [`kind: ${JSON.stringify(m.kind)}`];
    if (m.key) parts.push(`key: ${expr(m.key)}`);
    if (m.value) parts.push(`value: ${expr(m.value)}`);
    if (m.event && !(m.event.kind === "bytes" && m.event.size === 0))
      parts.push(`event: ${expr(m.event)}`);
    L.push(`  ${m.name}: { ${parts.join(", ")} },`);
  }
  L.push("} as const;");
  L.push("");
  if (globals.length > 0) {
    L.push(
      "/** Global variables (set before load with `load({ globals })`; `.rodata` ones are constant after). */",
    );
    L.push("export const globals = {");
    for (const g of globals)
      L.push(`  ${g.name}: { section: ${JSON.stringify(g.section)}, type: ${expr(g.type)} },`);
    L.push("} as const;");
    L.push(`export interface ${cls}Globals {`);
    for (const g of globals) {
      const t = g.type.kind === "int" ? tsType(g.type) : "Uint8Array";
      L.push(`  ${g.name}?: ${t === "number" ? "number | bigint" : t};`);
    }
    L.push("}");
    L.push("");
  }
  const typed = maps.filter((m) => m.key && m.value);
  L.push(`/** The maps of a loaded ${opts.name}, typed. */`);
  L.push(`export interface ${cls}Maps {`);
  for (const m of typed)
    L.push(
      `  ${m.name}: ${m.perCpu ? "PerCpuMap" : "BpfMap"}<${tsType(m.key!)}, ${tsType(m.value!)}>;`,
    );
  L.push("}");
  L.push("");
  const events = maps.filter((m) => m.event);
  L.push(
    `/** An event of ${opts.name}: the map it came from and its record, decoded (raw: the bytes). */`,
  );
  L.push(
    `export type ${cls}Event = ${events.length === 0 ? "never" : events.map((m) => `{ map: ${JSON.stringify(m.name)}; event: ${m.event!.kind === "bytes" ? "Uint8Array" : tsType(m.event!)}; raw: Uint8Array; cpu?: number }`).join(" | ")};`,
  );
  L.push("");
  L.push(
    `/** ${opts.name}, loaded: its maps typed, its events decoded. \`await using\` detaches and closes it. */`,
  );
  L.push(`export class ${cls} implements AsyncDisposable {`);
  L.push(`  readonly maps: ${cls}Maps;`);
  L.push("");
  L.push("  private constructor(readonly loaded: Loaded) {");
  L.push("    this.maps = {");
  for (const m of typed)
    L.push(
      `      ${m.name}: loaded.map(${JSON.stringify(m.name)}).${m.perCpu ? "perCpu" : "withCodecs"}({ key: maps.${m.name}.key, value: maps.${m.name}.value }),`,
    );
  L.push("    };");
  L.push("  }");
  L.push("");
  L.push(
    `  /** Loads and attaches every program (attach targets come from \`loader\`, e.g. \`Loader.create().xdp("lo")\`). */`,
  );
  L.push(
    `  static async load(loader: Loader = Loader.create()${globals.length > 0 ? `, opts: { globals?: ${cls}Globals } = {}` : ""}): Promise<${cls}> {`,
  );
  if (globals.length > 0)
    L.push(
      "    if (opts.globals) loader = loader.options({ globals: opts.globals as Record<string, number | bigint | Uint8Array> });",
    );
  L.push(
    `    const loaded = await (typeof elf === "string" ? loader.loadFile(elf) : loader.load(elf));`,
  );
  L.push(`    return new ${cls}(loaded);`);
  L.push("  }");
  L.push("");
  L.push(
    "  /** Events of every event map, decoded with their record types, until close(); `onLost` hears of events the kernel dropped (a full ring). */",
  );
  L.push(
    `  async *events(opts: { onLost?: (count: number, map: string) => void } = {}): AsyncGenerator<${cls}Event> {`,
  );
  if (events.length === 0) L.push("    void opts;", "    return;");
  else {
    L.push("    for await (const batch of this.loaded.events) {");
    L.push("      if (batch.lost > 0) opts.onLost?.(batch.lost, batch.map);");
    L.push("      for (const raw of batch.events) {");
    L.push("        const cpu = batch.cpu === undefined ? {} : { cpu: batch.cpu };");
    L.push("        switch (batch.map) {");
    for (const m of events) {
      L.push(`          case ${JSON.stringify(m.name)}:`);
      const decode =
        m.event!.kind === "bytes" && m.event!.size === 0
          ? "raw"
          : `maps.${m.name}.event.decode(raw)`;
      L.push(
        `            yield { map: ${JSON.stringify(m.name)}, event: ${decode}, raw, ...cpu };`,
      );
      L.push("            break;");
    }
    L.push("        }");
    L.push("      }");
    L.push("    }");
  }
  L.push("  }");
  L.push("");
  if (logs)
    L.push(
      "  /** The probe's log.* lines, formatted (`logLineText(l)`), until close(). */",
      "  logs(): LogReader {",
      "    return this.loaded.logs();",
      "  }",
      "",
      '  /** The highest level the probe emits from now on ("error" … "debug", "off"). */',
      "  setLogLevel(level: LogLevelSetting): void {",
      "    this.loaded.setLogLevel(level);",
      "  }",
      "",
    );
  L.push("  close(): void {");
  L.push("    this.loaded.close();");
  L.push("  }");
  L.push("");
  L.push("  async [Symbol.asyncDispose](): Promise<void> {");
  L.push("    this.close();");
  L.push("  }");
  L.push("}");
  L.push("");
  const body = L.join("\n");
  // import exactly what the body uses (projects compile with noUnusedLocals)
  const has = (re: RegExp) => re.test(body);
  const values = ["struct", "array", "bytes"].filter((f) => has(new RegExp(`\\b${f}\\(`)));
  const ints = ["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "be16", "be32"].filter((n) =>
    has(new RegExp(`[:(,] ${n}\\b(?!\\()`)),
  );
  const lib = [
    "Loader",
    "type Loaded",
    ...(has(/\bBpfMap</) ? ["type BpfMap"] : []),
    ...(has(/\bPerCpuMap</) ? ["type PerCpuMap"] : []),
    ...(logs ? ["type LogReader", "type LogLevelSetting"] : []),
  ];
  const head = [
    `// Generated by \`tsbpf build\`${opts.source ? ` from ${opts.source}` : ""}: the typed interface of ${opts.name}.elf`,
    "// (bpftool gen skeleton for TypeScript). Do not edit: the next build rewrites it.",
    "/* eslint-disable */",
    `import { ${lib.join(", ")} } from "tsbpf";`,
  ];
  const types = [...values, ...ints, ...(has(/\bInfer</) ? ["type Infer"] : [])];
  if (types.length > 0) head.push(`import { ${types.join(", ")} } from "tsbpf/types";`);
  return [...head, body].join("\n");
}

function bytesOrInt(size: number): Model {
  const n = INT_NAMES[`${size}u`];
  return n ? { kind: "int", name: n, size } : { kind: "bytes", size };
}
