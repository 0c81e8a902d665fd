// ELF fuzz campaign: at least 100,000 mutated eBPF objects through the object parser, the
// linker and the disassembler (what `Collection.load` and `tsbpf disasm` run on untrusted
// files). A benchmark-style script, not a test: it reports crashes (any exception other than
// ObjectError) and hangs (an input still running after --timeout ms), saves each such input
// under build/fuzz-elf/, and exits 1 when there is any. See bench/README.md.
//
//   node dist/bench/fuzz-elf/run.js [--inputs 100000] [--seed 1] [--timeout 10000]
//                                    [--max-seed-bytes 65536] [--only INDEX]
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { mutant } from "./mutate.js";
import type { Outcome } from "./worker.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer`);
  return v;
};
const inputs = opt("inputs", 100_000);
const seed = opt("seed", 1);
const timeoutMs = opt("timeout", 10_000);
const maxSeedBytes = opt("max-seed-bytes", 65_536);
const only = args.includes("--only") ? opt("only", 0) : undefined;
const CHUNK = 500;

const fixtureDir = join(root, "test/fixtures/obj");
const seedFiles = readdirSync(fixtureDir)
  .filter((f) => f.endsWith(".o") && statSync(join(fixtureDir, f)).size <= maxSeedBytes)
  .sort();
if (seedFiles.length === 0)
  throw new Error(`no seed objects in ${fixtureDir}: run scripts/build-fixtures.sh first`);
const seeds = seedFiles.map((f) => new Uint8Array(readFileSync(join(fixtureDir, f))));
const outDir = join(root, "build/fuzz-elf");
const workerFile = fileURLToPath(new URL("./worker.js", import.meta.url));

const counts = { parsed: 0, rejected: 0, crash: 0, hang: 0 };
const crashes: { index: number; error: string }[] = [];
const hangs: number[] = [];
let slowest = { index: -1, ms: 0 };
const save = (what: string, index: number): string => {
  mkdirSync(outDir, { recursive: true });
  const p = join(outDir, `${what}-seed${seed}-${index}.o`);
  writeFileSync(p, mutant(seeds, seed, index));
  return p;
};

/** Run inputs [from, to) in a worker; resolves with where to go on (after a hang: index + 1). */
function runChunk(from: number, to: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerFile, { workerData: { seeds, seed } });
    let current = -1;
    let startedAt = 0;
    let settled = false;
    const watchdog = setInterval(() => {
      if (current >= 0 && performance.now() - startedAt > timeoutMs) {
        settled = true;
        clearInterval(watchdog);
        counts.hang++;
        hangs.push(current);
        console.log(`HANG  input ${current} (> ${timeoutMs} ms): ${save("hang", current)}`);
        const next = current + 1;
        void w.terminate().then(() => resolve(next));
      }
    }, 250);
    w.on("message", (m: Outcome | { started: number } | { done: number }) => {
      if ("started" in m) {
        current = m.started;
        startedAt = performance.now();
      } else if ("done" in m) {
        settled = true;
        clearInterval(watchdog);
        void w.terminate().then(() => resolve(m.done));
      } else {
        current = -1;
        counts[m.kind]++;
        if (m.ms > slowest.ms) slowest = { index: m.index, ms: m.ms };
        if (m.kind === "crash") {
          crashes.push({ index: m.index, error: m.error });
          console.log(`CRASH input ${m.index}: ${save("crash", m.index)}\n${m.error}`);
        }
      }
    });
    w.on("error", (e) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      reject(e);
    });
    w.postMessage({ from, to });
  });
}

const t0 = performance.now();
if (only !== undefined) {
  await runChunk(only, only + 1);
} else {
  let next = 0;
  let shown = 0;
  while (next < inputs) {
    next = await runChunk(next, Math.min(inputs, next + CHUNK));
    if (next - shown >= 10_000 || next >= inputs) {
      shown = next;
      const s = (performance.now() - t0) / 1000;
      console.log(
        `${next} inputs, ${s.toFixed(0)} s: ${counts.parsed} parsed, ${counts.rejected} rejected (ObjectError), ${counts.crash} crashes, ${counts.hang} hangs`,
      );
    }
  }
}
const secs = (performance.now() - t0) / 1000;
const total = counts.parsed + counts.rejected + counts.crash + counts.hang;
console.log(`
ELF fuzz campaign, seed ${seed}: ${total} mutated objects from ${seeds.length} fixture seeds (${seedFiles.join(", ")})
| inputs | parsed and disassembled | rejected (ObjectError) | crashes | hangs (> ${timeoutMs} ms) | slowest input | time |
| --- | --- | --- | --- | --- | --- | --- |
| ${total} | ${counts.parsed} | ${counts.rejected} | ${counts.crash} | ${counts.hang} | ${slowest.ms.toFixed(1)} ms (#${slowest.index}) | ${secs.toFixed(0)} s (${Math.round(total / secs)}/s) |`);
if (crashes.length + hangs.length > 0) process.exitCode = 1;
