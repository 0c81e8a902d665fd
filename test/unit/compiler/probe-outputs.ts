// Byte-identity check for compiler changes that must not change code generation: compiles
// every bench/compiler, test/fixtures/probes and examples probe and prints (or compares with a
// saved file) the sha256 of each ELF.
//   node dist/test/unit/compiler/probe-outputs.js save /tmp/before.json
//   node dist/test/unit/compiler/probe-outputs.js check /tmp/before.json
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compileProbe } from "../../../src/compiler/index.js";

const ROOT = resolve(fileURLToPath(new URL("../../../..", import.meta.url)));

/** Every probe source the repository compiles: bench programs, fixtures, examples. */
export function probeFiles(): string[] {
  const out: string[] = [];
  const dir = (d: string, keep: (f: string) => boolean) => {
    const abs = join(ROOT, d);
    if (!existsSync(abs)) return;
    for (const f of readdirSync(abs).sort()) if (keep(f)) out.push(join(abs, f));
  };
  dir("bench/compiler/programs", (f) => f.endsWith(".ts"));
  dir("test/fixtures/probes", (f) => f.endsWith(".ts"));
  out.push(join(ROOT, "test/fixtures/probes/imports/probe.ts"));
  dir("examples/trace_http", (f) => f === "probe.ts" || f === "probe_ringbuf.ts");
  return out;
}

function digests(): Record<string, string> {
  const r: Record<string, string> = {};
  for (const f of probeFiles()) {
    const rel = f.slice(ROOT.length + 1);
    try {
      r[rel] = createHash("sha256").update(compileProbe(f).elf).digest("hex");
    } catch (e) {
      r[rel] = `error: ${(e as Error).message.split("\n")[0]}`;
    }
  }
  return r;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const [mode, file] = process.argv.slice(2);
  const now = digests();
  if (mode === "save" && file) {
    writeFileSync(file, JSON.stringify(now, null, 1));
    console.log(`${Object.keys(now).length} probes saved to ${file}`);
  } else if (mode === "check" && file) {
    const before = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    let diff = 0;
    for (const k of new Set([...Object.keys(before), ...Object.keys(now)]))
      if (before[k] !== now[k]) {
        diff++;
        console.log(`DIFFERS ${k}: ${before[k]} -> ${now[k]}`);
      }
    console.log(`${Object.keys(now).length} probes, ${diff} differ`);
    process.exitCode = diff ? 1 : 0;
  } else console.log(JSON.stringify(now, null, 1));
}
