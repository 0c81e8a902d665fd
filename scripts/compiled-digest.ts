// Prints one line per probe: its name and the SHA-256 of the object tsbpf compiles it to (or the
// diagnostic code when it does not compile). A compiler refactoring that must not change output
// compares two runs: `node dist/scripts/compiled-digest.js > before.txt`, change, rebuild,
// `node dist/scripts/compiled-digest.js | diff before.txt -`.
// Probes: every probe file in the repository (bench programs, examples, test fixtures, the
// `tsbpf new` template) and a fixed set of random programs from the compiler fuzz generator.
import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import fc from "fast-check";
import { compileProbe, CompileError, CompileErrors } from "../src/compiler/index.js";
import { program } from "../test/unit/compiler/fuzz-gen.js";

const root = resolve(import.meta.dirname, "../..");
const RANDOM = Number(process.env.DIGEST_RANDOM ?? 1500);
// DIGEST_INSNS=1: each line also gets the instruction slots of the probe (programs and
// subprograms), and a last line sums them per group: a code-size change states its effect.
const INSNS = process.env.DIGEST_INSNS === "1";
const totals = new Map<string, number>();

function probeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return probeFiles(p);
    return n.endsWith(".ts") && !n.endsWith(".d.ts") ? [p] : [];
  });
}

function digest(entry: string, sources?: ReadonlyMap<string, string>, group = "files"): string {
  try {
    const out = compileProbe(entry, sources ? { sources } : {});
    const hash = createHash("sha256").update(out.elf).digest("hex").slice(0, 16);
    if (!INSNS) return hash;
    const n = [...out.programs, ...out.subprograms].reduce((s, p) => s + p.insns.length, 0);
    totals.set(group, (totals.get(group) ?? 0) + n);
    return `${hash} ${n}`;
  } catch (e) {
    if (e instanceof CompileError) return `error ${e.code} ${e.line}:${e.col}`;
    if (e instanceof CompileErrors) return `errors ${e.errors.length}`;
    return `internal ${(e as Error).message.split("\n")[0]}`;
  }
}

const files = [
  ...probeFiles(join(root, "bench/compiler/programs")),
  ...probeFiles(join(root, "examples")).filter((f) => /probe[^/]*\.ts$/.test(f)),
  ...probeFiles(join(root, "test/fixtures/probes")).filter((f) => !f.includes("/lib/")),
];
for (const f of files) console.log(relative(root, f), digest(f));

const samples = fc.sample(program, { seed: 20261205, numRuns: RANDOM });
samples.forEach((text, i) => {
  const entry = join(root, `random-${i}.ts`);
  console.log(`random-${i}`, digest(entry, new Map([[entry, text]]), "random"));
});
if (INSNS) for (const [g, n] of totals) console.log(`total insns ${g} ${n}`);
