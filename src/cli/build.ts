// `tsbpf build`: compile probe files to cargo-bpf's layout, <outDir>/<name>/<name>.elf.
// The CLI prints the returned diagnostics with formatDiagnostic (tsc's `file:line:col - error`).
import { stat, writeFile } from "node:fs/promises";
import type { Stats } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { compileProbe, CompileError, CompileErrors } from "../compiler/index.js";
import { formatDiagnostic, type Diagnostic } from "../compiler/errors.js";
import { makeDirectories } from "./output-dir.js";
import { writeSkeleton } from "../skel/write.js";
import { TsbpfError } from "../errors.js";

export { formatDiagnostic, type Diagnostic };

export interface BuildOptions {
  /** default "target/bpf-programs" (relative to cwd) */
  outDir?: string;
  /** base for relative paths, default process.cwd() */
  cwd?: string;
  /** put the ELF bytes into the typed skeleton (<name>.skel.ts) */
  embed?: boolean;
}

export interface BuildOutput {
  /** the probe source compiled */
  entry: string;
  /** object name: the probe's directory for `probe.ts`, else its basename */
  name: string;
  /** the written ELF */
  path: string;
  programs: { name: string; section: string; instructions: number }[];
  maps: string[];
  /** compile time in milliseconds */
  ms: number;
}

export interface BuildResult {
  outputs: BuildOutput[];
  /** errors with positions in the probe sources; empty when everything built */
  diagnostics: Diagnostic[];
}

/** Diagnostic code of a compiler bug (reported, never thrown). */
export const INTERNAL_ERROR_CODE = 9999;

/** cargo-bpf naming: `examples/trace_http/probe.ts` → trace_http, `probes/count.ts` → count. */
export function probeName(entry: string): string {
  const base = basename(entry).replace(/\.(m|c)?tsx?$/, "");
  if (base === "probe" || base === "index" || base === "main")
    return basename(dirname(resolve(entry)));
  return base;
}

/** A directory entry means its probe.ts. */
async function resolveEntry(entry: string, cwd: string): Promise<string> {
  const abs = resolve(cwd, entry);
  try {
    if ((await stat(abs)).isDirectory()) return join(abs, "probe.ts");
  } catch {
    // not there: the compiler reports the missing file with its name
  }
  return abs;
}

/** What kind of file `s` is, for messages ("a FIFO", "a socket" …). */
function fileKind(s: Stats): string {
  if (s.isFIFO()) return "a FIFO";
  if (s.isSocket()) return "a socket";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isDirectory()) return "a directory";
  return "not a regular file";
}

/** An entry that exists but is no regular file (reading a FIFO would wait forever). */
async function notRegularFile(entry: string): Promise<string | undefined> {
  let s: Stats;
  try {
    s = await stat(entry);
  } catch {
    return undefined; // missing: the compiler says "probe file not found"
  }
  return s.isFile() ? undefined : fileKind(s);
}

/** A user error about the output location (not the compiler's fault). */
class OutputError extends TsbpfError {
  override readonly name = "OutputError";
}

export async function build(entries: string[], opts: BuildOptions = {}): Promise<BuildResult> {
  const cwd = opts.cwd ?? process.cwd();
  const outDir = resolve(cwd, opts.outDir ?? "target/bpf-programs");
  const outputs: BuildOutput[] = [];
  const diagnostics: Diagnostic[] = [];
  const rel = (f: string) => (f.startsWith("/") ? relative(cwd, f) || f : f);
  const seen = new Map<string, string>();
  for (const raw of entries) {
    const entry = await resolveEntry(raw, cwd);
    const name = probeName(entry);
    const clash = seen.get(name);
    if (clash !== undefined) {
      diagnostics.push({
        code: 1007,
        message: `two probes are named ${name} (${rel(clash)} and ${rel(entry)}); rename one`,
        file: rel(entry),
        line: 1,
        col: 1,
      });
      continue;
    }
    seen.set(name, entry);
    const kind = await notRegularFile(entry);
    if (kind !== undefined) {
      diagnostics.push({
        code: 1007,
        message: `${rel(entry)} is ${kind}, not a probe file: give a .ts file (or a directory with a probe.ts)`,
        file: rel(entry),
        line: 1,
        col: 1,
      });
      continue;
    }
    const t0 = performance.now();
    const path = join(outDir, name, `${name}.elf`);
    try {
      const compiled = compileProbe(entry);
      try {
        await makeDirectories(dirname(path));
        await writeFile(path, compiled.elf);
        await writeSkeleton(path, compiled, { name, entry, cwd, embed: opts.embed ?? false });
      } catch (e) {
        const why = (e as Error).message;
        throw new OutputError(
          `cannot write ${path}: ${why}; choose another output directory with -o DIR`,
        );
      }
      outputs.push({
        entry,
        name,
        path,
        programs: compiled.programs.map((p) => ({
          name: p.name,
          section: p.section,
          instructions: p.insns.length,
        })),
        maps: compiled.maps.map((m) => m.name),
        ms: performance.now() - t0,
      });
    } catch (e) {
      const errs =
        e instanceof CompileErrors ? e.errors : e instanceof CompileError ? [e] : undefined;
      if (e instanceof OutputError) {
        diagnostics.push({ code: 1007, message: e.message, file: rel(entry), line: 1, col: 1 });
      } else if (errs) {
        for (const x of errs)
          diagnostics.push({
            code: x.code,
            message: x.message,
            file: rel(x.file),
            line: x.line,
            col: x.col,
          });
      } else {
        diagnostics.push({
          code: INTERNAL_ERROR_CODE,
          message: `internal compiler error: ${(e as Error).message ?? String(e)} (please report this with the probe source)`,
          file: rel(entry),
          line: 1,
          col: 1,
        });
      }
    }
  }
  return { outputs, diagnostics };
}
