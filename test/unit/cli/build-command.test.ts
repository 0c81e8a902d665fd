// `tsbpf build` through the real CLI binary: output layout, tsc-style errors and exit codes,
// default entries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultEntries } from "../../../src/cli/build-command.js";
import { parseObject } from "../../../src/obj/object.js";
import { readFileSync } from "node:fs";

const TSBPF = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));
const tsbpf = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [TSBPF, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

const PROBE = `import { program, map, xdp, PerfMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { u32 } from "tsbpf/types";
program({ license: "GPL" });
const lengths = map("lengths", new PerfMap(u32, { maxEntries: 64 }));
export const count = xdp((ctx: XdpContext) => {
  lengths.insert(ctx, ctx.len());
  return XdpAction.Pass;
});
`;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-build-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test("tsbpf build: target/bpf-programs/<name>/<name>.elf, a summary line, exit 0", (t) => {
  const dir = project({ "probe.ts": PROBE });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const name = dir.split("/").at(-1)!;
  const r = tsbpf(dir, "build");
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(
      `^Compiled ${name} → target/bpf-programs/${name}/${name}\\.elf \\(1 program, \\d+ instructions, 1 map, \\d+ ms\\)\\n$`,
    ),
  );
  const obj = parseObject(readFileSync(join(dir, `target/bpf-programs/${name}/${name}.elf`)));
  assert.deepEqual(
    obj.programs.map((p) => p.name),
    ["count"],
  );
});

test("tsbpf build -o DIR: a named entry that is not probe.ts is named after its file", (t) => {
  const dir = project({ "probes/lengths.ts": PROBE });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsbpf(dir, "build", "probes/lengths.ts", "-o", "out");
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(dir, "out/lengths/lengths.elf")));
});

test("tsbpf build: errors as tsc prints them, a count, exit 1, nothing written", (t) => {
  const dir = project({
    "probe.ts": PROBE.replace("ctx.len()", "ctx.len() * 1.5").replace(
      "return XdpAction.Pass;",
      "const s: string = 1;\n  return XdpAction.Pass;",
    ),
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsbpf(dir, "build");
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.match(
    lines[0]!,
    /^probe\.ts:7:9 - error TSBPF1000: TS2322: Type 'number' is not assignable to type 'string'\.$/,
  );
  assert.match(lines.at(-1)!, /^Found \d+ errors? in probe\.ts\.$/);
  assert.ok(!existsSync(join(dir, "target")));
});

test("tsbpf build: a missing entry or no entry at all is one line, exit 1", (t) => {
  const dir = project({ "README.md": "" });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let r = tsbpf(dir, "build", "nope.ts");
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "error: no such file: nope.ts\n");
  r = tsbpf(dir, "build");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: no probe to build: name one/);
});

test("defaultEntries: package.json tsbpf.probes, else ./probe.ts, else src/**/probe.ts", (t) => {
  const dir = project({
    "src/a/probe.ts": "",
    "src/b/c/probe.ts": "",
    "src/node_modules/x/probe.ts": "",
    "src/other.ts": "",
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(defaultEntries(dir), ["src/a/probe.ts", "src/b/c/probe.ts"]);
  writeFileSync(join(dir, "probe.ts"), "");
  assert.deepEqual(defaultEntries(dir), ["probe.ts"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ tsbpf: { probes: ["x.ts"] } }));
  assert.deepEqual(defaultEntries(dir), ["x.ts"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ tsbpf: { probes: "x.ts" } }));
  assert.throws(() => defaultEntries(dir), /"tsbpf.probes" must be an array of file paths/);
  writeFileSync(join(dir, "package.json"), "{");
  assert.throws(() => defaultEntries(dir), /cannot read .*package\.json/);
});
