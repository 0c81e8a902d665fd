// A probe split across modules (test/fixtures/probes/imports/): functions imported by path,
// through a re-export and a renamed import, inlined and as bpf-to-bpf subprograms, run in the
// kernel; libbpf loads the object and the kernel's line info names each helper's own file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { parseBtf } from "../../../src/obj/btf.js";
import { parseBtfExt } from "../../../src/obj/btf-ext.js";
import { parseElf } from "../../../src/obj/elf.js";
import { ensureBpffs } from "../../../src/sys/bpffs.js";
import { u32, u64 } from "../../../src/types/index.js";
import { VerifierError } from "../../../src/load/verifier.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";

const DIR = fileURLToPath(new URL("../../../../test/fixtures/probes/imports/", import.meta.url));
const compiled = compileProbe(join(DIR, "probe.ts"));

const wrap = (x: bigint) => BigInt.asUintN(64, x);
const fnv = (n: number) => {
  let h = 0x811c9dc5n;
  for (let i = 0; i < 4; i++) {
    const b = Math.min((n >> (i * 8)) & 0xff, 0xf0);
    h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
  }
  return h;
};
const scramble = (a: number, b: number) => {
  let h = BigInt(a);
  for (let i = 0; i < 3; i++) h = wrap((h * 31n) ^ BigInt(b + i));
  return (h ^ (h >> 16n)) & 0xffffn;
};

test("imported functions: same-named subprograms of two modules get distinct symbols", () => {
  assert.deepEqual(compiled.subprograms.map((s) => s.name).sort(), ["scramble", "scramble_fn"]);
});

test("a multi-file probe runs: re-exported, renamed and nested imported functions", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compiled.elf);
  const out = coll.maps.get("out")!;
  const at = (i: number) => u64.decode(out.get(u32.encode(i) as never) as Uint8Array);
  const prog = coll.programs.get("imports")!;
  for (const len of [60, 99, 1500]) {
    assert.equal(prog.testRun({ data: new Uint8Array(len) }).retval, len > 1000 ? 1 : 2);
    assert.deepEqual(
      [0, 1, 2, 3].map(at),
      [fnv(len), scramble(len, 5), BigInt((len * 7) ^ 3), scramble(len, 3)],
      `len ${len}`,
    );
  }
});

test("line info names each function's own file; bpftool loads the object and shows them", (t) => {
  const elf = parseElf(compiled.elf);
  const ext = parseBtfExt(elf.section(".BTF.ext")!.data, parseBtf(elf.section(".BTF")!.data));
  const files = (sec: string) =>
    new Set(ext.lineInfo.get(sec)!.map((l) => l.fileName.slice(DIR.length)));
  // verdict's few instructions fold into the program's returns; the others stay
  const xdp = files("xdp");
  for (const f of ["lib/hash.ts", "lib/record.ts", "lib/util.ts", "probe.ts"])
    assert.ok(xdp.has(f), `${f} in ${[...xdp].join(", ")}`);
  for (const f of xdp) assert.match(f, /^(probe|lib\/(hash|record|util|verdict))\.ts$/);
  assert.deepEqual([...files(".text")].sort(), ["lib/hash.ts", "lib/mix.ts", "probe.ts"]);
  for (const l of ext.lineInfo.get(".text")!)
    if (l.fileName.endsWith("lib/hash.ts"))
      assert.equal(l.text.trim(), "return (x ^ (x >> 16)) & 0xffff;"); // fold, inlined in scramble
  if (!needsKernel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-imports-"));
  ensureBpffs();
  const pin = `/sys/fs/bpf/tsbpf-imports-${process.pid}`;
  try {
    const obj = join(dir, "probe.o");
    writeFileSync(obj, compiled.elf);
    execFileSync("bpftool", ["prog", "loadall", obj, pin], { stdio: "pipe" });
    const dump = execFileSync(
      "bpftool",
      ["prog", "dump", "xlated", "pinned", join(pin, "imports"), "linum"],
      { encoding: "utf8" },
    );
    // the subprogram from lib/mix.ts, appended by libbpf, keeps its file and line
    assert.match(dump, /h = \(h \* 31\) \^ \(b \+ i\);.*\[file:\S*\/lib\/mix\.ts line_num:9 /);
    assert.match(
      dump,
      /return \(\(h \^ b\) \* PRIME\) >>> 0;.*\[file:\S*\/lib\/hash\.ts line_num:7 /,
    );
    assert.match(dump, /\[file:\S*\/probe\.ts line_num:14 /); // the entry's own scramble
  } finally {
    rmSync(pin, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a verifier rejection inside an imported function names that function's file and line", (t) => {
  if (!needsKernel(t)) return;
  const path = virtualPath("imports-reject");
  const parse = join(path, "..", "parse.ts");
  const sources = new Map([
    [
      path,
      `${HEADER}import { first } from "./parse.js";\nexport const p = xdp((ctx: XdpContext) => (first(ctx) === 71 ? XdpAction.Drop : XdpAction.Pass));\n`,
    ],
    [
      parse,
      // `!` silences TypeScript, but read(4) is null for short packets: the load is unchecked.
      `import type { XdpContext } from "tsbpf/probe";\n\nexport function first(ctx: XdpContext): number {\n  return ctx.data()!.read(4)!.at(0);\n}\n`,
    ],
  ]);
  const compiled = compileProbe(path, { sources });
  let err: unknown;
  try {
    Collection.load(compiled.elf).close();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof VerifierError, `expected a VerifierError, got ${String(err)}`);
  assert.equal(err.source?.fileName, parse);
  assert.equal(err.source.line, 4);
  assert.equal(err.source.text.trim(), "return ctx.data()!.read(4)!.at(0);");
});
