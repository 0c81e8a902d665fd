// A long-lived process (the build server, the benchmark's warm column) compiles many probes with
// the front end's caches of tsbpf's own declarations and module resolutions warm: its objects
// must be byte for byte those of a fresh process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileProbe } from "../../../src/compiler/index.js";

const DIR = fileURLToPath(new URL("../../../../bench/compiler/programs/", import.meta.url));
const COMPILER = new URL("../../../src/compiler/index.js", import.meta.url).href;
const programs = readdirSync(DIR)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => DIR + f);

/** Each program's ELF (base64) compiled once in a new Node process. */
function freshProcess(files: string[]): string[] {
  const script = `
    const { compileProbe } = await import(${JSON.stringify(COMPILER)});
    const files = ${JSON.stringify(files)};
    process.stdout.write(JSON.stringify(files.map((f) => Buffer.from(compileProbe(f).elf).toString("base64"))));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

test("every bench program compiled twice in one process gives a fresh process's bytes", () => {
  assert.ok(programs.length >= 10, `bench programs in ${DIR}`);
  const fresh = freshProcess(programs);
  for (let round = 0; round < 2; round++)
    programs.forEach((file, k) => {
      const elf = Buffer.from(compileProbe(file).elf).toString("base64");
      assert.ok(elf === fresh[k], `${file}: round ${round + 1} differs from a fresh process`);
    });
});
