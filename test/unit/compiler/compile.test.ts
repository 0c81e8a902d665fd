// Compiler output without a kernel: golden disassembly, object structure, folding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { disassemble } from "../../../src/obj/disasm.js";
import { parseObject } from "../../../src/obj/object.js";
import { MapType } from "../../../src/obj/consts.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { frameLayout } from "../../../src/compiler/backend/isel.js";
import { compileSource, lineOf } from "./support.js";

const GOLDEN = fileURLToPath(new URL("../../../../test/unit/compiler/golden/", import.meta.url));
const TRACE_HTTP = fileURLToPath(
  new URL("../../../../examples/trace_http/probe.ts", import.meta.url),
);

/** Compare with test/unit/compiler/golden/<name>.txt; UPDATE_GOLDEN=1 rewrites it. */
function golden(name: string, text: string): void {
  const file = `${GOLDEN}${name}.txt`;
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== "1")
      assert.fail(`golden file ${file} missing; run with UPDATE_GOLDEN=1`);
    writeFileSync(file, text);
  }
  assert.equal(text, readFileSync(file, "utf8"));
}

const listing = (src: string) =>
  compileSource(src)
    .programs.map((p) => `${p.section} ${p.name}\n${disassemble(p.insns).join("\n")}\n`)
    .join("\n");

test("a constant verdict is two instructions", () => {
  const p = compileSource("export const drop = xdp(() => XdpAction.Drop);").programs[0]!;
  assert.deepEqual(disassemble(p.insns), ["   0: (b7) r0 = 1", "   1: (95) exit"]);
});

test("constant expressions fold at compile time", () => {
  const p = compileSource(`
const K = 3;
export const f = xdp(() => {
  const a = 2 + K * 4;
  const b = (a << 2) | 1;
  return b > 50 ? XdpAction.Drop : XdpAction.Pass;
});`).programs[0]!;
  assert.deepEqual(disassemble(p.insns), ["   0: (b7) r0 = 1", "   1: (95) exit"]);
});

test("golden: hash map counter", () => {
  golden(
    "hash-counter",
    listing(`
const counts = map("counts", new HashMap(u32, u64, { maxEntries: 16 }));
export const count = xdp((ctx: XdpContext) => {
  const key = ctx.ingressIfindex;
  const v = counts.get(key);
  if (v === null) {
    counts.set(key, 1n);
    return XdpAction.Pass;
  }
  return XdpAction.Pass;
});`),
  );
});

test("a helper's small key sits at its natural place in the frame, a struct local on 8 bytes", () => {
  const layout = frameLayout(
    {
      name: "t",
      ctx: 1,
      nextVreg: 2,
      blocks: [],
      slots: [
        { size: 4, align: 4, what: "key" },
        { size: 16, align: 8, what: "value" },
        { size: 2, align: 2, what: "port" },
        { size: 3, align: 1, what: "bytes" },
        { size: 4, align: 8, what: "local" },
      ],
    },
    1,
  );
  assert.deepEqual(layout.slotOff, [-4, -24, -26, -35, -48]);
  assert.equal(layout.spillOff(0), -56);
  assert.equal(layout.size, 56);
  // from source: an array index built for a lookup is 4-aligned, a struct-typed local (whose
  // fields the program reads back) 8-aligned
  const text = listing(`
const P = struct("P", { a: u32 });
type P = Infer<typeof P>;
const arr = map("arr", new ArrayMap(u64, { maxEntries: 4 }));
export const f = xdp((ctx: XdpContext) => {
  const p: P = { a: ctx.ingressIfindex };
  const v = arr.get(ctx.rxQueueIndex & 3);
  return v === null || p.a === 7 ? XdpAction.Pass : XdpAction.Drop;
});`);
  assert.match(text, /\*\(u32 \*\)\(r10 -8\) = r\d/, text); // p, first slot: [-8, 0)
  assert.match(text, /\*\(u32 \*\)\(r10 -12\) = r\d/, text); // the key: top of [-16, -8)
  assert.match(text, /r2 \+= -12/, text);
});

test("golden: bounded loop and local function", () => {
  golden(
    "loop-function",
    listing(`
function mix(a: number, b: number): number {
  return (a * 31) ^ b;
}
export const loop = xdp((ctx: XdpContext) => {
  let h = ctx.ingressIfindex;
  for (let i = 0; i < 20; i++) {
    if (i === 2) continue;
    h = mix(h, i);
  }
  return h === 0 ? XdpAction.Drop : XdpAction.Pass;
});`),
  );
});

test("golden: a loop of at most 16 iterations is unrolled, its counter a constant", () => {
  golden(
    "loop-unrolled",
    listing(`
export const sum = xdp((ctx: XdpContext) => {
  const d = ctx.data();
  const b = d && d.read(4);
  if (!b) return XdpAction.Pass;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    if (i === 2) continue;
    s += b.at(i);
  }
  return s === 0 ? XdpAction.Drop : XdpAction.Pass;
});`),
  );
});

test("golden: trace_http", () => {
  const r = compileProbe(TRACE_HTTP);
  golden(
    "trace_http",
    r.programs.map((p) => `${p.section} ${p.name}\n${disassemble(p.insns).join("\n")}\n`).join(""),
  );
});

test("the object: sections, maps, BTF and line info a loader understands", () => {
  const src = `
const Event = struct("Event", { pid: u32, ts: u64 });
const events = map("events", new RingBuf(Event, { maxEntries: 4096 }));
const seen = map("seen", new LruHashMap(u32, Event, { maxEntries: 64 }));
const hits = map("hits", new PerCpuArrayMap(u64, { maxEntries: 1 }));
export const on_enter = tracepoint("syscalls", "sys_enter_getpid", struct("args", { nr: u64 }), () => {
  const e: { pid: number; ts: bigint } = { pid: toNumber(pidTgid() >> 32n), ts: ktimeGetNs() };
  events.output(e);
  seen.set(e.pid, e);
  return 0;
});`;
  const r = compileSource(src);
  const obj = parseObject(r.elf);
  assert.equal(obj.license, "GPL");
  assert.deepEqual(
    obj.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]).sort(),
    [
      ["events", MapType.RINGBUF, 0, 0, 4096],
      ["hits", MapType.PERCPU_ARRAY, 4, 8, 1],
      ["seen", MapType.LRU_HASH, 4, 16, 64],
    ],
  );
  const p = obj.programs[0]!;
  assert.equal(p.section, "tracepoint/syscalls/sys_enter_getpid");
  assert.equal(p.name, "on_enter");
  assert.equal(p.funcInfo.length, 1);
  assert.ok(p.lineInfo.length > 3);
  assert.equal(p.lineInfo[0]!.insn, 0);
  const outputLine = lineOf(src, "events.output(e)");
  const li = p.lineInfo.find((l) => l.line === outputLine);
  assert.ok(li, "line info for events.output(e)");
  assert.equal(li.text.trim(), "events.output(e);");
  assert.equal(p.relocations.length, 2);
});

test("trace_http: the perf map and the event type are in the object", () => {
  const r = compileProbe(TRACE_HTTP);
  const obj = parseObject(r.elf);
  assert.deepEqual(
    obj.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]),
    [["requests", MapType.PERF_EVENT_ARRAY, 4, 4, 1024]],
  );
  assert.equal(obj.programs[0]!.section, "xdp");
  assert.equal(obj.kernelVersion, 0xfffffffe);
  const names = [...(obj.btf?.types ?? [])].map((t) => t.name);
  assert.ok(names.includes("RequestInfo"));
});

test("a dominating packet parse is reused; one inside a branch is not", () => {
  const size = (body: string) =>
    compileSource(
      `export const p = xdp((ctx: XdpContext) => {\n${body}\n  return XdpAction.Pass;\n});`,
    ).programs[0]!.insns.length;
  const once = size(
    "  const t = ctx.transport();\n  if (t && t.dest() === 80) return XdpAction.Drop;",
  );
  const twice = size(
    "  const ip = ctx.ip();\n  const t = ctx.transport();\n  const u = ctx.transport();\n  if (ip && t && u && t.dest() === u.source()) return XdpAction.Drop;",
  );
  assert.ok(twice < once + 12, `repeated parses cost ${twice - once} more instructions`);
  // A parse inside a branch may not have run: code after the branch parses again.
  const nested = size(
    "  if (prandom() > 5) {\n    const u = ctx.transport();\n    if (u && u.source() === 3) return XdpAction.Drop;\n  }\n  const t = ctx.transport();\n  if (t && t.dest() === 80) return XdpAction.Drop;",
  );
  assert.ok(nested > once + 30, `a parse in a branch is its own (${nested} vs ${once})`);
});

test("object shorthand is accepted wherever an object literal is", () => {
  const src = `import { program, map, xdp, HashMap, RingBuf, XdpAction, type XdpContext } from "tsbpf/probe";
import { struct, u32, type Infer } from "tsbpf/types";
const license = "GPL";
program({ license });
const maxEntries = 8;
const Ev = struct("Ev", { pid: u32, len: u32 });
type Ev = Infer<typeof Ev>;
const m = map("m", new HashMap(u32, Ev, { maxEntries }));
const ring = map("ring", new RingBuf(Ev, { maxEntries: 4096 }));
export const p = xdp((ctx: XdpContext) => {
  const len = ctx.len();
  const pid = 7;
  m.set(len, { pid, len });
  const e: Ev = { pid, len };
  ring.output({ len, pid: e.pid });
  return XdpAction.Pass;
});`;
  const obj = parseObject(compileSource(src, { raw: true }).elf);
  assert.equal(obj.license, "GPL");
  assert.deepEqual(obj.maps.map((m) => [m.name, m.maxEntries]).sort(), [
    ["m", 8],
    ["ring", 4096],
  ]);
});

test("functions: small ones inlined, @noinline and large shared ones called, @inline forces inlining", () => {
  const big = (name: string, tag: string) => `${tag}
function ${name}(x: number): number {
  let s = x;
  for (let i = 0; i < 30; i++) {
    if (s > 1000) s = s - 999;
    else s = s * 3 + i;
    if ((s & 1) === 1) s ^= 0x55;
  }
  return s;
}`;
  const src = `${big("shared", "")}
${big("forced", "/** @inline */")}
/** @noinline */
function tiny(x: number): number { return x + 1; }
function small(x: number): number { return x * 2; }
export const p = xdp((ctx: XdpContext) => {
  const n = ctx.ingressIfindex;
  return shared(n) + shared(n + 1) + forced(n) + forced(2) + tiny(n) + small(n) > 5
    ? XdpAction.Drop
    : XdpAction.Pass;
});`;
  const r = compileSource(src);
  assert.deepEqual(r.subprograms.map((s) => s.name).sort(), ["shared", "tiny"]);
  const text = parseObject(r.elf).programs[0]!;
  assert.ok(
    text.insns.length > r.programs[0]!.insns.length,
    "subprograms linked after the program",
  );
});
