// build(): cargo-bpf's output layout, and diagnostics instead of exceptions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, probeName, formatDiagnostic } from "../../../src/cli/build.js";
import { parseObject } from "../../../src/obj/object.js";
import { HEADER } from "./support.js";

const TRACE_HTTP_DIR = fileURLToPath(new URL("../../../../examples/trace_http", import.meta.url));

test("probeName: the directory for probe.ts, else the file's basename", () => {
  assert.equal(probeName("examples/trace_http/probe.ts"), "trace_http");
  assert.equal(probeName("/x/probes/count.ts"), "count");
  assert.equal(probeName("src/net/index.ts"), "net");
});

test("build writes <outDir>/<name>/<name>.elf and reports each probe", async () => {
  const out = mkdtempSync(join(tmpdir(), "tsbpf-build-"));
  try {
    const r = await build([TRACE_HTTP_DIR], { outDir: out });
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.outputs.length, 1);
    const o = r.outputs[0]!;
    assert.equal(o.name, "trace_http");
    assert.equal(o.path, join(out, "trace_http", "trace_http.elf"));
    assert.deepEqual(o.maps, ["requests"]);
    assert.deepEqual(
      o.programs.map((p) => [p.name, p.section]),
      [["trace_http", "xdp"]],
    );
    const obj = parseObject(readFileSync(o.path));
    assert.equal(obj.programs[0]!.name, "trace_http");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("build returns positioned diagnostics for broken probes and keeps building the rest", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-build-"));
  try {
    mkdirSync(join(dir, "bad"));
    writeFileSync(
      join(dir, "bad", "probe.ts"),
      HEADER + "export const p = xdp(() => {\n  while (true) {}\n  return XdpAction.Pass;\n});\n",
    );
    writeFileSync(
      join(dir, "good.ts"),
      HEADER + "export const good = xdp(() => XdpAction.Pass);\n",
    );
    const r = await build(["bad", "good.ts", "missing.ts"], { cwd: dir, outDir: "out" });
    assert.deepEqual(
      r.outputs.map((o) => o.name),
      ["good"],
    );
    assert.ok(existsSync(join(dir, "out", "good", "good.elf")));
    const [loop, missing] = r.diagnostics;
    assert.equal(
      formatDiagnostic(loop!).split(" - ")[0],
      `${join("bad", "probe.ts")}:${HEADER.split("\n").length + 1}:3`,
    );
    assert.match(loop!.message, /while\/do loops have no bound/);
    assert.equal(loop!.code, 1003);
    assert.match(missing!.message, /probe file not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
