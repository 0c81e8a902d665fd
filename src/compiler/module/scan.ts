// The top level of a probe: `program({...})`, `map(...)` declarations, exported programs,
// constants and local functions. Everything here is resolved at compile time.
import ts from "typescript";
import type { Type } from "../../types/index.js";
import { MapType } from "../../obj/consts.js";
import { kindOfProbeFn, type ProbeProgramFn, type ProgramKind } from "../../obj/program-kinds.js";
import { canonical, type Frontend } from "../frontend/typecheck.js";
import { ConstEvaluator, NOT_CONST } from "./consteval.js";
import { Code, CompileError } from "../errors.js";
import { checkEnum } from "./enums.js";
import { progArrayOptions, resolveProgSlots, type ProgSlotRef } from "./prog-array.js";
import { importedFunctions, probeFiles } from "./imports.js";
import { declareLog, type LogTable } from "./log.js";
import { scanHistogram, type HistSpec } from "./histogram.js";

export type MapClass =
  | "HashMap"
  | "PerCpuHashMap"
  | "LruHashMap"
  | "LruPerCpuHashMap"
  | "ArrayMap"
  | "PerCpuArrayMap"
  | "LpmTrieMap"
  | "PerfMap"
  | "RingBuf"
  | "ProgArray"
  | "StackTraceMap"
  | "SockMap"
  | "SockHash";

const MAP_TYPES: Record<MapClass, number> = {
  HashMap: MapType.HASH,
  PerCpuHashMap: MapType.PERCPU_HASH,
  LruHashMap: MapType.LRU_HASH,
  LruPerCpuHashMap: MapType.LRU_PERCPU_HASH,
  ArrayMap: MapType.ARRAY,
  PerCpuArrayMap: MapType.PERCPU_ARRAY,
  LpmTrieMap: MapType.LPM_TRIE,
  PerfMap: MapType.PERF_EVENT_ARRAY,
  RingBuf: MapType.RINGBUF,
  ProgArray: MapType.PROG_ARRAY,
  StackTraceMap: MapType.STACK_TRACE,
  SockMap: MapType.SOCKMAP,
  SockHash: MapType.SOCKHASH,
};

export interface MapDecl {
  /** ELF symbol / map name */
  name: string;
  cls: MapClass;
  type: number;
  key?: Type;
  value?: Type;
  /** explicit sizes for maps without BTF key/value types */
  keySize?: number;
  valueSize?: number;
  maxEntries?: number;
  flags: number;
  node: ts.Node;
  /** a ProgArray's initial slots (`values: [p, q]`), as written; resolved into `progSlots` */
  slotRefs?: ProgSlotRef[];
  /** a ProgArray's initial slots: the program whose fd the loader stores at each index */
  progSlots?: { index: number; program: string }[];
  /** a Histogram (module/histogram.ts): its buckets; `record` computes them */
  hist?: HistSpec;
}

export type { ProgramKind };

export interface ProgramDecl {
  name: string;
  /** the program-kind table's kind (obj/program-kinds.ts) */
  kind: ProgramKind;
  /** the tsbpf/probe function that declared it (`socketFilter`): what diagnostics call it */
  api: ProbeProgramFn;
  section: string;
  fn: ts.ArrowFunction | ts.FunctionExpression | ts.FunctionDeclaration;
  /** tracepoint record layout (fields after the 8-byte common header) */
  layout?: Type;
  /** tracepoint record typed from the kernel (`trace_event_raw_*` of tsbpf btf gen) */
  record?: ts.Type;
  node: ts.Node;
}

/** A global variable in `.bss`, `.data` or `.rodata`. */
export interface GlobalDecl {
  name: string;
  /** `.data.tsbpf_log`: the log level, a map of its own (module/log.ts) */
  section: ".bss" | ".data" | ".rodata" | ".data.tsbpf_log";
  type: Type;
  /** byte offset in its section */
  offset: number;
  /** initial bytes (.data / .rodata) */
  init?: Uint8Array;
  node: ts.Node;
}

export interface ProbeModule {
  license: string;
  version: number;
  maps: MapDecl[];
  /** map by the symbol of the const it is bound to */
  mapBySymbol: Map<ts.Symbol, MapDecl>;
  programs: ProgramDecl[];
  globals: GlobalDecl[];
  globalBySymbol: Map<ts.Symbol, GlobalDecl>;
  /** top-level functions of the entry and of the probe's own imported modules */
  functions: Map<ts.Symbol, ts.FunctionDeclaration>;
  consts: ConstEvaluator;
  /** the formats of the probe's log calls, when it logs (module/log.ts) */
  log?: LogTable;
}

export function scanModule(fe: Frontend): ProbeModule {
  const consts = new ConstEvaluator(fe);
  const mod: ProbeModule = {
    license: "",
    version: 0xfffffffe,
    maps: [],
    mapBySymbol: new Map(),
    programs: [],
    globals: [],
    globalBySymbol: new Map(),
    functions: new Map(),
    consts,
  };
  let sawProgram = false;
  const { checker } = fe;
  const symOf = (n: ts.Node): ts.Symbol | undefined => {
    const s = checker.getSymbolAtLocation(n);
    return s && canonical(checker, s);
  };
  for (const [name, decl] of importedFunctions(fe)) mod.functions.set(symOf(name)!, decl);

  for (const st of fe.entry.statements) {
    if (
      ts.isImportDeclaration(st) ||
      ts.isTypeAliasDeclaration(st) ||
      ts.isInterfaceDeclaration(st)
    )
      continue;
    if (ts.isExportDeclaration(st)) continue;
    if (ts.isEmptyStatement(st)) continue;
    if (ts.isEnumDeclaration(st)) {
      checkEnum(st, (x) => consts.eval(x));
      continue;
    }
    if (ts.isFunctionDeclaration(st)) {
      if (!st.name || !st.body)
        throw CompileError.at(st, Code.Unsupported, "top-level functions need a name and a body");
      mod.functions.set(symOf(st.name)!, st);
      continue;
    }
    if (ts.isExpressionStatement(st) && ts.isCallExpression(st.expression)) {
      const api = consts.apiName(st.expression.expression);
      if (api?.module === "probe" && api.name === "program") {
        if (sawProgram) throw CompileError.at(st, Code.Module, "program() may be called only once");
        sawProgram = true;
        const opts = consts.eval(st.expression.arguments[0]!);
        if (opts === NOT_CONST || typeof opts !== "object" || opts === null)
          throw CompileError.at(
            st.expression,
            Code.NotConstant,
            "program() takes a constant object literal: { license, version }",
          );
        const o = opts as { license?: unknown; version?: unknown };
        if (typeof o.license !== "string" || o.license === "")
          throw CompileError.at(
            st.expression,
            Code.Module,
            'program() needs a license string, e.g. { license: "GPL" }',
          );
        mod.license = o.license;
        if (o.version !== undefined) {
          if (
            typeof o.version !== "number" ||
            !Number.isInteger(o.version) ||
            o.version < 0 ||
            o.version > 0xffffffff
          )
            throw CompileError.at(
              st.expression,
              Code.Module,
              "program() version must be a u32 number",
            );
          mod.version = o.version;
        }
        continue;
      }
    }
    if (ts.isVariableStatement(st)) {
      const isConst = (st.declarationList.flags & ts.NodeFlags.Const) !== 0;
      const exported = st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
      for (const d of st.declarationList.declarations) {
        if (!ts.isIdentifier(d.name) || !d.initializer)
          throw CompileError.at(
            d,
            Code.Unsupported,
            "top-level declarations must be `const name = …`",
          );
        if (!isConst)
          throw CompileError.at(
            d,
            Code.Unsupported,
            "top-level `let`/`var` would be a global variable, which probes do not support yet; use a map (ArrayMap with one entry) for state",
          );
        const init = d.initializer;
        if (ts.isCallExpression(init)) {
          const api = consts.apiName(init.expression);
          if (api?.module === "probe" && api.name === "map") {
            const m = scanMap(consts, init);
            if (mod.maps.some((x) => x.name === m.name))
              throw CompileError.at(init, Code.Module, `duplicate map name "${m.name}"`);
            mod.maps.push(m);
            mod.mapBySymbol.set(symOf(d.name)!, m);
            continue;
          }
          if (api?.module === "probe" && (api.name === "global" || api.name === "config")) {
            const g = scanGlobal(consts, init, api.name, mod.globals);
            if (
              mod.globals.some((x) => x.name === g.name) ||
              mod.maps.some((m) => m.name === g.name)
            )
              throw CompileError.at(init, Code.Module, `duplicate global name "${g.name}"`);
            mod.globals.push(g);
            mod.globalBySymbol.set(symOf(d.name)!, g);
            continue;
          }
          const kind = api?.module === "probe" ? kindOfProbeFn(api.name) : undefined;
          if (api && kind) {
            if (!exported)
              throw CompileError.at(
                d,
                Code.Module,
                `program ${d.name.text} must be exported: export const ${d.name.text} = ${api.name}(…)`,
              );
            mod.programs.push(
              scanProgram(
                checker,
                consts,
                d.name.text,
                kind,
                api.name as ProbeProgramFn,
                init,
                mod,
              ),
            );
            continue;
          }
        }
        // Any other constant: must be computable at compile time (checked when used).
        if (
          consts.eval(init) === NOT_CONST &&
          !ts.isArrowFunction(init) &&
          !ts.isFunctionExpression(init)
        )
          throw CompileError.at(
            init,
            Code.NotConstant,
            `top-level const ${d.name.text} must be a compile-time constant (number, string, struct(), map(), or a program)`,
          );
      }
      continue;
    }
    throw CompileError.at(
      st,
      Code.Unsupported,
      `unsupported top-level statement (${ts.SyntaxKind[st.kind]}); probes contain imports, program(), map() and program declarations`,
    );
  }
  if (!sawProgram)
    throw new CompileError(
      Code.Module,
      'missing program({ license: "GPL" }) call',
      fe.entry.fileName,
      1,
      1,
    );
  if (mod.programs.length === 0)
    throw new CompileError(
      Code.Module,
      "no programs: export at least one, e.g. export const p = xdp((ctx) => XdpAction.Pass)",
      fe.entry.fileName,
      1,
      1,
    );
  for (const m of mod.maps)
    if (m.slotRefs) m.progSlots = resolveProgSlots(checker, m, m.slotRefs, mod.programs);
  declareLog(mod, consts, probeFiles(fe));
  return mod;
}

function scanGlobal(
  consts: ConstEvaluator,
  call: ts.CallExpression,
  kind: "global" | "config",
  prior: readonly GlobalDecl[],
): GlobalDecl {
  const [nameArg, typeArg, initArg] = call.arguments;
  const name = nameArg && consts.eval(nameArg);
  if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw CompileError.at(
      nameArg ?? call,
      Code.BadApi,
      `${kind}() needs a constant name that is a C identifier`,
    );
  const type = typeArg && consts.eval(typeArg);
  if (!isType(type))
    throw CompileError.at(
      typeArg ?? call,
      Code.BadApi,
      `${kind}("${name}", …): the type must be a tsbpf/types type`,
    );
  let init: Uint8Array | undefined;
  if (initArg) {
    const v = consts.eval(initArg);
    if (v === NOT_CONST)
      throw CompileError.at(
        initArg,
        Code.NotConstant,
        `${kind}("${name}", …): the initial value must be a compile-time constant`,
      );
    try {
      init = new Uint8Array(type.encode(v as never));
    } catch (e) {
      throw CompileError.at(initArg, Code.BadApi, `${kind}("${name}", …): ${(e as Error).message}`);
    }
  } else if (kind === "config")
    throw CompileError.at(
      call,
      Code.BadApi,
      `config("${name}", type, value) needs its default value`,
    );
  const section = kind === "config" ? ".rodata" : init ? ".data" : ".bss";
  const end = prior
    .filter((g) => g.section === section)
    .reduce((n, g) => Math.max(n, g.offset + g.type.size), 0);
  const offset = Math.ceil(end / type.align) * type.align;
  return { name, section, type, offset, ...(init ? { init } : {}), node: call };
}

function isType(v: unknown): v is Type {
  return typeof v === "object" && v !== null && "kind" in v && "size" in v && "align" in v;
}

function scanMap(consts: ConstEvaluator, call: ts.CallExpression): MapDecl {
  const [nameArg, defArg] = call.arguments;
  const name = nameArg && consts.eval(nameArg);
  if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,14}$/.test(name))
    throw CompileError.at(
      nameArg ?? call,
      Code.BadApi,
      "map() needs a constant name: a C identifier of at most 15 characters",
    );
  if (!defArg || !ts.isNewExpression(defArg))
    throw CompileError.at(
      defArg ?? call,
      Code.BadApi,
      `map("${name}", …) needs a map constructor, e.g. new HashMap(u32, u64, { maxEntries: 1024 })`,
    );
  const cls = consts.apiName(defArg.expression);
  if (cls?.module === "probe" && cls.name === "Histogram") {
    const a = defArg.arguments?.[0];
    const v = a ? consts.eval(a) : undefined;
    if (v === NOT_CONST)
      throw CompileError.at(a!, Code.NotConstant, `map "${name}": options must be constants`);
    return scanHistogram(name, call, a, v, isType);
  }
  if (!cls || cls.module !== "probe" || !(cls.name in MAP_TYPES))
    throw CompileError.at(
      defArg.expression,
      Code.BadApi,
      "unknown map class; use HashMap, ArrayMap, PerfMap, RingBuf, … from tsbpf/probe",
    );
  const c = cls.name as MapClass;
  let slotRefs: ProgSlotRef[] = [];
  const args = (defArg.arguments ?? []).map((a, i) => {
    if (c !== "ProgArray" || i !== 0) return { node: a, v: consts.eval(a) };
    const o = progArrayOptions(consts, a, name);
    slotRefs = o.slots;
    return { node: a, v: o.v };
  });
  for (const a of args)
    if (a.v === NOT_CONST)
      throw CompileError.at(
        a.node,
        Code.NotConstant,
        `map "${name}": arguments must be compile-time constants`,
      );
  const typeArg = (i: number, what: string): Type => {
    const a = args[i];
    if (!a || !isType(a.v))
      throw CompileError.at(
        a?.node ?? defArg,
        Code.BadApi,
        `map "${name}": the ${what} must be a tsbpf/types type (u32, struct(...), array(...))`,
      );
    return a.v;
  };
  const optsAt = (i: number, required: boolean): { maxEntries?: number; flags?: number } => {
    const a = args[i];
    if (!a) {
      if (required)
        throw CompileError.at(defArg, Code.BadApi, `map "${name}": missing options { maxEntries }`);
      return {};
    }
    const o = a.v as { maxEntries?: unknown; flags?: unknown };
    if (typeof o !== "object" || o === null)
      throw CompileError.at(
        a.node,
        Code.BadApi,
        `map "${name}": options must be an object literal`,
      );
    if (
      o.maxEntries !== undefined &&
      (typeof o.maxEntries !== "number" ||
        !Number.isInteger(o.maxEntries) ||
        o.maxEntries <= 0 ||
        o.maxEntries > 0xffffffff)
    )
      throw CompileError.at(
        a.node,
        Code.BadApi,
        `map "${name}": maxEntries must be a positive integer`,
      );
    if (required && o.maxEntries === undefined)
      throw CompileError.at(a.node, Code.BadApi, `map "${name}": maxEntries is required`);
    return {
      maxEntries: o.maxEntries as number | undefined,
      flags: (o.flags as number | undefined) ?? 0,
    };
  };
  const base = { name, cls: c, type: MAP_TYPES[c], node: call, flags: 0 };
  switch (c) {
    case "HashMap":
    case "PerCpuHashMap":
    case "LruHashMap":
    case "LruPerCpuHashMap":
    case "LpmTrieMap": {
      const o = optsAt(2, true);
      const flags = (o.flags ?? 0) | (c === "LpmTrieMap" ? 1 /* BPF_F_NO_PREALLOC */ : 0);
      return {
        ...base,
        key: typeArg(0, "key type"),
        value: typeArg(1, "value type"),
        maxEntries: o.maxEntries,
        flags,
      };
    }
    case "ArrayMap":
    case "PerCpuArrayMap": {
      const o = optsAt(1, true);
      return {
        ...base,
        key: typesU32(),
        value: typeArg(0, "value type"),
        maxEntries: o.maxEntries,
        flags: o.flags ?? 0,
      };
    }
    case "PerfMap": {
      const o = optsAt(1, false);
      return {
        ...base,
        value: typeArg(0, "event type"),
        keySize: 4,
        valueSize: 4,
        maxEntries: o.maxEntries,
        flags: o.flags ?? 0,
      };
    }
    case "RingBuf": {
      const o = optsAt(1, true);
      const n = o.maxEntries!;
      if (n < 4096 || (n & (n - 1)) !== 0)
        throw CompileError.at(
          args[1]!.node,
          Code.BadApi,
          `map "${name}": a ring buffer's maxEntries is its size in bytes: a power of two of at least 4096`,
        );
      return { ...base, value: typeArg(0, "event type"), maxEntries: n, flags: o.flags ?? 0 };
    }
    case "ProgArray": {
      const o = optsAt(0, true);
      return {
        ...base,
        keySize: 4,
        valueSize: 4,
        maxEntries: o.maxEntries,
        flags: o.flags ?? 0,
        ...(slotRefs.length > 0 ? { slotRefs } : {}),
      };
    }
    // value: the socket (a u32 fd from user space; the kernel stores the socket itself)
    case "SockMap": {
      const o = optsAt(0, true);
      return {
        ...base,
        key: typesU32(),
        value: typesU32(),
        maxEntries: o.maxEntries,
        flags: o.flags ?? 0,
      };
    }
    case "SockHash": {
      const o = optsAt(1, true);
      return {
        ...base,
        key: typeArg(0, "key type"),
        value: typesU32(),
        maxEntries: o.maxEntries,
        flags: o.flags ?? 0,
      };
    }
    case "StackTraceMap": {
      const o = optsAt(0, true);
      return {
        ...base,
        keySize: 4,
        valueSize: 127 * 8,
        maxEntries: o.maxEntries,
        flags: o.flags ?? 0,
      };
    }
  }
}

let u32Type: Type | undefined;
function typesU32(): Type {
  return (u32Type ??= ints().u32);
}
import { ints as intsTable } from "../../types/index.js";
const ints = () => intsTable;

function scanProgram(
  checker: ts.TypeChecker,
  consts: ConstEvaluator,
  name: string,
  kind: ProgramKind,
  api: ProbeProgramFn,
  call: ts.CallExpression,
  mod: ProbeModule,
): ProgramDecl {
  const str = (i: number, what: string): string => {
    const a = call.arguments[i];
    const v = a && consts.eval(a);
    if (typeof v !== "string" || v === "" || /\s/.test(v))
      throw CompileError.at(
        a ?? call,
        Code.BadApi,
        `${api}(): ${what} must be a constant non-empty string`,
      );
    return v;
  };
  const fnAt = (i: number): ProgramDecl["fn"] => {
    const a = call.arguments[i];
    if (a && (ts.isArrowFunction(a) || ts.isFunctionExpression(a))) return a;
    if (a && ts.isIdentifier(a)) {
      const s = checker.getSymbolAtLocation(a);
      const decl = s && mod.functions.get(canonical(checker, s));
      if (decl) return decl;
    }
    throw CompileError.at(
      a ?? call,
      Code.BadApi,
      `${api}(): pass the program as an arrow function, e.g. ${api}((ctx) => …)`,
    );
  };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw CompileError.at(call, Code.BadApi, `program name ${name} is not a C identifier`);
  switch (kind) {
    case "xdp":
      return { name, kind, api, section: "xdp", fn: fnAt(0), node: call };
    case "tc":
      return { name, kind, api, section: "tc", fn: fnAt(0), node: call };
    case "socket_filter":
      return { name, kind, api, section: "socket", fn: fnAt(0), node: call };
    case "cgroup_skb": {
      const dir = str(0, "direction");
      if (dir !== "ingress" && dir !== "egress")
        throw CompileError.at(
          call.arguments[0]!,
          Code.BadApi,
          'cgroupSkb(): direction is "ingress" or "egress"',
        );
      return { name, kind, api, section: `cgroup_skb/${dir}`, fn: fnAt(1), node: call };
    }
    case "tracepoint": {
      const cat = str(0, "category");
      const ev = str(1, "event name");
      if (call.arguments.length === 3) {
        // tracepoint(cat, name, (ctx: TracepointContext<trace_event_raw_…>) => …)
        const fn = fnAt(2);
        const p = fn.parameters[0];
        const record = p && checker.getTypeAtLocation(p).getProperty("fields");
        return {
          name,
          kind,
          api,
          section: `tracepoint/${cat}/${ev}`,
          fn,
          ...(record && p ? { record: checker.getTypeOfSymbolAtLocation(record, p) } : {}),
          node: call,
        };
      }
      const layoutArg = call.arguments[2];
      const layout = layoutArg && consts.eval(layoutArg);
      if (!isType(layout))
        throw CompileError.at(
          layoutArg ?? call,
          Code.BadApi,
          "tracepoint(): the third argument is the record layout, a struct() of the fields after the common header",
        );
      return {
        name,
        kind,
        api,
        section: `tracepoint/${cat}/${ev}`,
        fn: fnAt(3),
        layout,
        node: call,
      };
    }
    case "raw_tracepoint":
      return {
        name,
        kind,
        api,
        section: `raw_tracepoint/${str(0, "tracepoint name")}`,
        fn: fnAt(1),
        node: call,
      };
    case "tp_btf":
      return {
        name,
        kind,
        api,
        section: `tp_btf/${str(0, "tracepoint name")}`,
        fn: fnAt(1),
        node: call,
      };
    case "fentry":
    case "fexit":
    case "iter":
      return {
        name,
        kind,
        api,
        section: `${kind}/${str(0, kind === "iter" ? "iterator name" : "target function")}`,
        fn: fnAt(1),
        node: call,
      };
    case "lsm":
      return { name, kind, api, section: `lsm/${str(0, "LSM hook")}`, fn: fnAt(1), node: call };
    case "perf_event":
    case "sockops":
    case "sk_msg":
      return { name, kind, api, section: kind, fn: fnAt(0), node: call };
    case "sk_skb": {
      const hook = str(0, "hook");
      if (hook !== "stream_parser" && hook !== "stream_verdict")
        throw CompileError.at(
          call.arguments[0]!,
          Code.BadApi,
          'skSkb(): the hook is "stream_parser" or "stream_verdict"',
        );
      return { name, kind, api, section: `sk_skb/${hook}`, fn: fnAt(1), node: call };
    }
    case "kprobe":
    case "kretprobe":
      return {
        name,
        kind,
        api,
        section: `${kind}/${str(1, "target function")}`,
        fn: fnAt(0),
        node: call,
      };
    case "uprobe":
    case "uretprobe":
      return { name, kind, api, section: kind, fn: fnAt(0), node: call };
    default:
      throw new Error(
        `internal: ${api}() declares ${kind} programs, which scanProgram has no section for`,
      );
  }
}
