// `tsbpf build [ENTRY...] [-o DIR]`: compile probes to <DIR>/<name>/<name>.elf, print what was
// built, and print compile errors the way tsc does (`file:line:col - error TSBPFnnnn: …`).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import pc from "picocolors";
import { build, formatDiagnostic, type BuildOutput } from "./build.js";
import { UsageError } from "./usage-error.js";

/** Directories never searched for probes. */
const SKIP_DIRS = new Set(["node_modules", "dist", "target", ".git"]);

/**
 * The probes to build when none are named: `tsbpf.probes` in package.json, else `probe.ts`
 * in the current directory, else every `probe.ts` under `src/`.
 */
export function defaultEntries(cwd: string): string[] {
  const pkgPath = join(cwd, "package.json");
  if (existsSync(pkgPath)) {
    let pkg: { tsbpf?: { probes?: unknown } };
    try {
      pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as typeof pkg;
    } catch (e) {
      throw new UsageError(`cannot read ${pkgPath}: ${(e as Error).message}`);
    }
    const probes = pkg.tsbpf?.probes;
    if (probes !== undefined) {
      if (!Array.isArray(probes) || !probes.every((p) => typeof p === "string"))
        throw new UsageError(`${pkgPath}: "tsbpf.probes" must be an array of file paths`);
      return probes as string[];
    }
  }
  if (existsSync(join(cwd, "probe.ts"))) return ["probe.ts"];
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(join(dir, e.name));
      else if (e.isFile() && e.name === "probe.ts") found.push(relative(cwd, join(dir, e.name)));
    }
  };
  if (existsSync(join(cwd, "src"))) walk(join(cwd, "src"));
  return found.sort();
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

function describe(o: BuildOutput, cwd: string): string {
  const insns = o.programs.reduce((n, p) => n + p.instructions, 0);
  return (
    `${pc.green("Compiled")} ${o.name} → ${relative(cwd, o.path)} ` +
    pc.dim(
      `(${plural(o.programs.length, "program")}, ${plural(insns, "instruction")}, ` +
        `${plural(o.maps.length, "map")}, ${Math.round(o.ms)} ms)`,
    )
  );
}

/** Runs the build; returns the exit code (0 built everything, 1 compile errors). */
export async function runBuild(
  entries: string[],
  opts: { outDir: string; embed?: boolean },
): Promise<number> {
  const cwd = process.cwd();
  const wanted = entries.length > 0 ? entries : defaultEntries(cwd);
  if (wanted.length === 0)
    throw new UsageError(
      "no probe to build: name one (`tsbpf build probe.ts`), list them in package.json " +
        '("tsbpf": { "probes": [...] }), or put a probe.ts in this directory or under src/',
    );
  const missing = wanted.filter((e) => !existsSync(join(cwd, e)) && !existsSync(e));
  if (missing.length > 0) throw new UsageError(`no such file: ${missing.join(", ")}`);

  const { outputs, diagnostics } = await build(wanted, {
    outDir: opts.outDir,
    cwd,
    ...(opts.embed !== undefined && { embed: opts.embed }),
  });
  for (const o of outputs) console.log(describe(o, cwd));
  for (const d of diagnostics) console.error(formatDiagnostic(d));
  if (diagnostics.length === 0) return 0;
  const files = new Set(diagnostics.map((d) => d.file)).size;
  console.error(
    `\nFound ${plural(diagnostics.length, "error")}` +
      (files > 1 ? ` in ${files} files.` : ` in ${diagnostics[0]!.file}.`),
  );
  return 1;
}
