// bpf_loop lowering (issue 12/17): a long loop whose body branches compiles to a bpf_loop call
// with a static callback and loads; it computes what the same loop computes in JavaScript,
// with break, continue, early return, variables read and written, nested loops and map access.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { Collection } from "../../../src/load/collection.js";
import { u32, u64 } from "../../../src/types/index.js";
import { ensureBpffs } from "../../../src/sys/bpffs.js";
import { HEADER, compileSource } from "../../unit/compiler/support.js";
import type { CompiledProbe } from "../../../src/compiler/index.js";

const IO = `const io = map("io", new ArrayMap(u64, { maxEntries: 8 }));\n`;
const ACC = `const Acc = struct("Acc", { a: u64, b: u64 });\ntype Acc = Infer<typeof Acc>;\n`;
const xdpProg = (body: string) =>
  `${HEADER}${IO}${ACC}export const p = xdp((ctx: XdpContext) => {\n${body}\n  return XdpAction.Pass;\n});\n`;

function run(
  source: string,
  inputs: Record<number, bigint> = {},
): { ret: number; io: bigint[]; compiled: CompiledProbe } {
  const compiled = compileSource(source, { raw: true });
  using coll = Collection.load(compiled.elf);
  const m = coll.maps.get("io")!;
  for (const [k, v] of Object.entries(inputs))
    m.set(u32.encode(Number(k)) as never, u64.encode(v) as never);
  const ret = coll.programs.get("p")!.testRun({ data: new Uint8Array(64) }).retval;
  const io = Array.from({ length: 8 }, (_, k) =>
    u64.decode(m.get(u32.encode(k) as never) as Uint8Array),
  );
  return { ret, io, compiled };
}

const usesBpfLoop = (c: CompiledProbe) =>
  c.programs[0]!.insns.some((i) => i.code === 0x85 && i.src === 0 && i.imm === 181);

test("a 65,536-iteration loop with a branch loads as a bpf_loop and computes the JS result", (t) => {
  if (!needsKernel(t)) return;
  const src = xdpProg(
    "  let s = 0;\n  const x = toNumber(io.get(3) ?? 0n);\n  for (let i = 0; i < 65536; i++) {\n    if ((i ^ x) & 1) s += i;\n    else s ^= i * 3;\n  }\n  io.set(1, toBigInt(s));",
  );
  for (const x of [0n, 1n]) {
    const { ret, io, compiled } = run(src, { 3: x });
    assert.ok(usesBpfLoop(compiled), "bpf_loop call emitted");
    assert.equal(compiled.subprograms[0]?.name, "p_loop0");
    let s = 0n;
    for (let i = 0n; i < 65536n; i++) {
      if ((i ^ x) & 1n) s += i;
      else s ^= i * 3n;
    }
    assert.equal(ret, 2);
    assert.equal(io[1], s, `x=${x}`);
  }
});

test("break, continue, a nested loop, map access and variables written in the body", (t) => {
  if (!needsKernel(t)) return;
  const { ret, io } = run(
    xdpProg(
      [
        "  let s = 0;",
        "  let n = 0;",
        "  const stop = toNumber(io.get(4) ?? 0n);",
        "  for (let i = 0; i < 60000; i++) {",
        "    if (i % 7 === 3) continue;",
        "    if (i > stop && (i & 255) === 0) { n = i; break; }",
        "    io.add(2, 1n);",
        "    for (let j = 0; j < 3; j++) { if ((i + j) % 5 === 0) s += j; }",
        "    s += i & 3;",
        "  }",
        "  io.set(1, toBigInt(s));",
        "  io.set(0, toBigInt(n));",
      ].join("\n"),
    ),
    { 4: 50000n },
  );
  let s = 0;
  let n = 0;
  let c = 0;
  for (let i = 0; i < 60000; i++) {
    if (i % 7 === 3) continue;
    if (i > 50000 && (i & 255) === 0) {
      n = i;
      break;
    }
    c++;
    for (let j = 0; j < 3; j++) if ((i + j) % 5 === 0) s += j;
    s += i & 3;
  }
  assert.equal(ret, 2);
  assert.deepEqual(io.slice(0, 3), [BigInt(n), BigInt(s), BigInt(c)]);
});

test("return from inside the body leaves the program with its value; otherwise it runs on", (t) => {
  if (!needsKernel(t)) return;
  const src = xdpProg(
    [
      "  const limit = toNumber(io.get(5) ?? 0n);",
      "  let last = 0;",
      "  for (let k = 0; k < 5000; k++) {",
      "    last = k;",
      "    if (k * k > limit) { io.set(6, toBigInt(k)); return XdpAction.Drop; }",
      "  }",
      "  io.set(6, toBigInt(last + 1000000));",
    ].join("\n"),
  );
  const hit = run(src, { 5: 90000n });
  assert.equal(hit.ret, 1); // XDP_DROP
  assert.equal(hit.io[6], 301n);
  const miss = run(src, { 5: 1n << 40n });
  assert.equal(miss.ret, 2);
  assert.equal(miss.io[6], 4999n + 1000000n);
});

test("return inside a bpf_loop of an inlined function returns from the function", (t) => {
  if (!needsKernel(t)) return;
  const { ret, io } = run(
    `${HEADER}${IO}function firstSquareAbove(limit: number): number {\n  for (let k = 0; k < 4000; k++) {\n    if (k * k > limit) return k;\n  }\n  return -1;\n}\nexport const p = xdp((ctx: XdpContext) => {\n  const a = firstSquareAbove(toNumber(io.get(5) ?? 0n));\n  io.set(1, toBigInt(a + 10));\n  return XdpAction.Pass;\n});\n`,
    { 5: 1000n },
  );
  assert.equal(ret, 2);
  assert.equal(io[1], 32n + 10n);
});

test("a bpf_loop inside a bpf_loop's body, and a stack struct written through from the body", (t) => {
  if (!needsKernel(t)) return;
  const { ret, io, compiled } = run(
    xdpProg(
      [
        "  const st: Acc = { a: 0n, b: 0n };",
        "  for (let i = 0; i < 2000; i++) {",
        "    if (i & 1) st.a += toBigInt(i);",
        "    for (let j = 0; j < 1500; j += 500) { if (j > i) st.b += 1n; }",
        "    for (let q = 0; q < 3000; q++) { if (q === i) { st.b += 100n; break; } }",
        "  }",
        "  io.set(1, st.a);",
        "  io.set(2, st.b);",
      ].join("\n"),
    ),
  );
  let a = 0n;
  let b = 0n;
  for (let i = 0; i < 2000; i++) {
    if (i & 1) a += BigInt(i);
    for (let j = 0; j < 1500; j += 500) if (j > i) b += 1n;
    for (let q = 0; q < 3000; q++)
      if (q === i) {
        b += 100n;
        break;
      }
  }
  assert.equal(ret, 2);
  assert.deepEqual(io.slice(1, 3), [a, b]);
  assert.ok(compiled.subprograms.length >= 2, "two callbacks");
});

test("bpftool loads the object; the callback has its own func_info and line info", (t) => {
  if (!needsKernel(t)) return;
  const compiled = compileSource(
    xdpProg(
      "  let s = 0;\n  for (let i = 0; i < 30000; i++) {\n    if (i & 4) s += i;\n  }\n  io.set(1, toBigInt(s));",
    ),
    { raw: true },
  );
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bpfloop-"));
  ensureBpffs();
  const pin = `/sys/fs/bpf/tsbpf-bpfloop-${process.pid}`;
  try {
    const obj = join(dir, "probe.o");
    writeFileSync(obj, compiled.elf);
    const btf = execFileSync("bpftool", ["btf", "dump", "file", obj], { encoding: "utf8" });
    assert.match(btf, /FUNC 'p_loop0' type_id=\d+ linkage=static/);
    assert.match(btf, /'index' type_id=\d+\n\s+'ctx' type_id=\d+/);
    execFileSync("bpftool", ["prog", "loadall", obj, pin], { stdio: "pipe" });
    const dump = execFileSync("bpftool", ["prog", "dump", "xlated", "pinned", `${pin}/p`], {
      encoding: "utf8",
    });
    // the callback is a function of the loaded program, with the loop body's source line
    assert.match(dump, /p_loop0/);
    assert.match(dump, /; if \(i & 4\) s \+= i;/);
  } finally {
    rmSync(pin, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
