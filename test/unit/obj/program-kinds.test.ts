// The program-kind table (src/obj/program-kinds.ts) is the one place a kind is described; the
// section parser, the compiler's kind list and the attach dispatch must agree with it.
// (Offsets and sizes are checked against the running kernel in test/kernel/obj/program-kinds.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  CONTEXTS,
  KINDS,
  PROGRAM_KINDS,
  PT_REGS,
  REGISTERS,
  SECTIONS,
  contextOf,
  kindInfo,
  kindOfProbeFn,
  packetFields,
  probeContextField,
  probeFnOf,
  registerOffset,
  type ContextStruct,
  type ProgramKind,
} from "../../../src/obj/program-kinds.js";
import { parseSectionName } from "../../../src/obj/section.js";
import { AttachError, attachBySection } from "../../../src/link/index.js";
import { compileSource } from "../compiler/support.js";

/** A section name the row matches. */
const sample = (row: (typeof SECTIONS)[number]): string =>
  row.match === "exact" ? row.name : `${row.name}/x`;

test("every section row parses to its kind, with the kind's program type", () => {
  for (const row of SECTIONS) {
    const s = parseSectionName(sample(row));
    assert.ok(s, `${sample(row)} parses`);
    assert.equal(s.kind, row.kind, sample(row));
    assert.equal(s.progType, KINDS[row.kind].progType, sample(row));
    assert.equal(s.expectedAttachType, row.attach ?? kindInfo(row.kind).expectedAttachType);
  }
});

test("every kind has a section name, and no section names a kind the table lacks", () => {
  const named = new Set(SECTIONS.map((r) => r.kind));
  for (const k of PROGRAM_KINDS) assert.ok(named.has(k), `no SEC() name for ${k}`);
  for (const k of named) assert.ok(k in KINDS, k);
});

test("every kind's context is a struct the table holds, with its packet members", () => {
  for (const k of PROGRAM_KINDS) {
    const info = kindInfo(k);
    if (info.context === undefined) {
      assert.equal(info.packet, undefined, `${k}: packet members without a context`);
      continue;
    }
    const ctx = contextOf(k);
    assert.ok(ctx, `${k}: context ${info.context}`);
    if (info.packet) {
      const p = packetFields(k)!;
      assert.ok(p.data.offset < p.end.offset, `${k}: data before data_end`);
    }
  }
});

test("context tables: fields in order, inside the struct, access rules name kinds of the struct", () => {
  const structs: ContextStruct[] = [...Object.values(CONTEXTS), ...Object.values(PT_REGS)];
  const users = (s: ContextStruct): Set<ProgramKind> =>
    new Set(PROGRAM_KINDS.filter((k) => [contextOf(k, "x64"), contextOf(k, "arm64")].includes(s)));
  for (const s of structs) {
    let prev = 0;
    for (const f of s.fields) {
      const where = `${s.name}.${f.name}`;
      assert.ok(f.offset >= prev, `${where} out of order`);
      prev = f.offset;
      if (s.size > 0) assert.ok(f.offset + f.size <= s.size, `${where} past sizeof`);
      if (f.elem !== undefined) assert.equal(f.size % f.elem, 0, where);
      for (const k of [...(f.noRead ?? []), ...(f.write ?? [])])
        assert.ok(s.accessFor.includes(k), `${where}: ${k} is not in accessFor`);
    }
    for (const k of s.accessFor) assert.ok(users(s).has(k), `${s.name}: ${k} has another context`);
  }
});

test("the context members probes read are readable by every kind the compiler gives them to", () => {
  for (const k of PROGRAM_KINDS) {
    if (kindInfo(k).probe === undefined) continue;
    const ctx = contextOf(k);
    for (const f of ctx?.fields ?? []) {
      if (f.probe === undefined) continue;
      assert.ok(ctx!.accessFor.includes(k), `${ctx!.name}: access of ${k} programs not recorded`);
      // a member the kind may not read is not given to it (sk_skb and __sk_buff.mark)
      const given = probeContextField(k, f.probe);
      if ((f.noRead ?? []).includes(k))
        assert.equal(given, undefined, `${ctx!.name}.${f.name}: ${k}`);
      else assert.equal(given, f, `${ctx!.name}.${f.name}: ${k} reads it`);
    }
    const p = packetFields(k);
    if (p)
      for (const f of [p.data, p.end]) assert.ok(!(f.noRead ?? []).includes(k), `${k}: ${f.name}`);
  }
});

test("pt_regs: the registers probes read, per architecture", () => {
  // the compiler's x86-64 offsets (parm1 = di … sp) and arm64's x0-x4 / pc / sp
  assert.deepEqual(
    Object.keys(REGISTERS.x64).map((m) => registerOffset("x64", m)),
    [112, 104, 96, 88, 72, 80, 128, 152],
  );
  assert.deepEqual(
    Object.keys(REGISTERS.arm64).map((m) => registerOffset("arm64", m)),
    [0, 8, 16, 24, 32, 0, 256, 248],
  );
  assert.deepEqual(Object.keys(REGISTERS.x64), Object.keys(REGISTERS.arm64));
  assert.equal(registerOffset("x64", "parm6"), undefined);
});

/** A minimal program per tsbpf/probe declaration function. */
const DECLARE: Record<string, string> = {
  xdp: "xdp(() => XdpAction.Pass)",
  tc: "tc(() => TcAction.Ok)",
  socketFilter: "socketFilter(() => 0)",
  cgroupSkb: 'cgroupSkb("ingress", () => SkAction.Pass)',
  tracepoint: 'tracepoint("sched", "sched_switch", struct("R", { a: u32 }), () => 0)',
  rawTracepoint: 'rawTracepoint("sys_enter", () => 0)',
  tpBtf: 'tpBtf("sched_process_exec", () => 0)',
  kprobe: 'kprobe(() => 0, "vfs_read")',
  kretprobe: 'kretprobe(() => 0, "vfs_read")',
  uprobe: "uprobe(() => 0)",
  uretprobe: "uretprobe(() => 0)",
  fentry: 'fentry("vfs_read", () => 0)',
  fexit: 'fexit("vfs_read", () => 0)',
  iter: 'iter("task", () => 0)',
  perfEvent: "perfEvent(() => 0)",
  lsm: 'lsm("file_open", () => 0)',
  sockops: "sockops(() => 1)",
  skSkb: 'skSkb("stream_verdict", () => SkAction.Pass)',
  skMsg: "skMsg(() => SkAction.Pass)",
};

test("the compiler's kinds: tsbpf/probe's program functions, each compiling to its kind's section", () => {
  // tsbpf/probe's sources (every file of src/probe, however it is split)
  const probeDir = fileURLToPath(new URL("../../../../src/probe/", import.meta.url));
  const probeSrc = readdirSync(probeDir)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => readFileSync(probeDir + f, "utf8"))
    .join("\n");
  // every exported function of tsbpf/probe that declares a program
  // (an overloaded function, such as tracepoint, once)
  const declared = [
    ...new Set(
      [...probeSrc.matchAll(/export function (\w+)(?:<[^>]*>)?\([^;{]*?\): ProgramDecl</g)].map(
        (m) => m[1]!,
      ),
    ),
  ].sort();
  const inTable = PROGRAM_KINDS.flatMap((k) => {
    const f = kindInfo(k).probe;
    return f === undefined ? [] : [f];
  }).sort();
  assert.deepEqual(inTable, declared);
  assert.deepEqual(Object.keys(DECLARE).sort(), declared);
  // (the shared HEADER imports the older kinds; the socket-kinds.ts ones are imported here)
  const body =
    'import { perfEvent, lsm, sockops, skSkb, skMsg } from "tsbpf/probe";\n' +
    declared.map((f, i) => `export const p${i} = ${DECLARE[f]};`).join("\n");
  const out = compileSource(body);
  declared.forEach((f, i) => {
    const kind = kindOfProbeFn(f);
    assert.ok(kind, f);
    assert.equal(probeFnOf(kind), f);
    const p = out.programs.find((x) => x.name === `p${i}`);
    assert.ok(p, `${f}() compiled`);
    assert.equal(parseSectionName(p.section)?.kind, kind, `${f}() → SEC("${p.section}")`);
  });
  assert.equal(kindOfProbeFn("map"), undefined);
});

test("the attach dispatch: kinds with an attach module are dispatched, the others refused", () => {
  const prog = { fd: -1, name: "p", type: 0 };
  for (const k of PROGRAM_KINDS) {
    // the bare name where the row allows one: no target, so nothing is looked up or created
    const row = SECTIONS.find((r) => r.kind === k)!;
    const section = parseSectionName(row.match === "always" ? `${row.name}/x` : row.name)!;
    let err: unknown;
    try {
      attachBySection({ ...prog, type: section.progType }, section, {});
    } catch (e) {
      err = e;
    }
    // No options and no fd: every path fails before attaching anything.
    assert.ok(err instanceof Error, `${k}: attached with fd -1?`);
    const refused = err instanceof AttachError && /is not supported by tsbpf yet/.test(err.message);
    assert.equal(refused, kindInfo(k).attach === undefined, `${k}: ${err.message}`);
  }
});
