// Running the libbpf reference binaries of bench/c (built into build/bench/ by
// scripts/build-bench-c.sh) and the JS benches as child processes: each prints one JSON line.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseJsonLine } from "./report.js";

/** Repository root (dist/bench/ → ../..). */
export const root = fileURLToPath(new URL("../..", import.meta.url));
export const buildDir = join(root, "build", "bench");
export const fixturesDir = join(root, "test", "fixtures", "obj");

/** A parsed result line plus the raw `checksum` digits (JSON numbers lose bits past 2⁵³). */
export interface LineResult {
  fields: Record<string, unknown>;
  checksum: bigint | undefined;
}

/** The checksum field read exactly from the raw JSON text. */
export function rawChecksum(line: string): bigint | undefined {
  const m = /"checksum":\s*"?(\d+)"?/.exec(line);
  return m ? BigInt(m[1]!) : undefined;
}

/**
 * Runs `cmd args` (inside network namespace `netns` when given) from the repository root and
 * parses its one JSON line. Throws with stderr when it fails.
 */
export function runJsonCommand(
  cmd: string,
  args: readonly string[],
  opts: { netns?: string; timeoutMs?: number } = {},
): LineResult {
  const [file, argv] = opts.netns
    ? ["ip", ["netns", "exec", opts.netns, cmd, ...args]]
    : [cmd, [...args]];
  const what = `${cmd.replace(root, "")} ${args.join(" ")}`;
  const r = spawnSync(file, argv, {
    encoding: "utf8",
    cwd: root,
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 1 << 20,
  });
  if (r.error) throw new Error(`cannot run ${what}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`${what} failed (status ${r.status ?? r.signal}):\n${r.stderr.trim()}`);
  return { fields: parseJsonLine(r.stdout, what), checksum: rawChecksum(r.stdout) };
}

const REFERENCE_FILES = ["ringbuf_consume", "map_lookup", "load_attach", "ringbuf_bench.bpf.o"];

let referenceDir = buildDir;

/**
 * Copies the reference binaries and the ring buffer object to a private directory (removed
 * at exit) and runs them from there: a concurrent `npm ci` (node-gyp rebuild empties build/)
 * cannot pull them away mid-run. Returns the directory.
 */
export function snapshotReference(): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-ref-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  for (const f of REFERENCE_FILES) copyFileSync(join(buildDir, f), join(dir, f));
  referenceDir = dir;
  return dir;
}

/** Where the reference files are read from (build/bench, or the snapshot). */
export function reference(file: string): string {
  return join(referenceDir, file);
}

/** Runs one reference binary, e.g. `libbpf("map_lookup", ["--seconds", "1"])`. */
export function libbpf(
  name: "ringbuf_consume" | "map_lookup" | "load_attach",
  args: readonly string[],
  opts: { netns?: string } = {},
): LineResult {
  return runJsonCommand(reference(name), args, opts);
}

/** What is missing before the bench can run, as messages that say how to fix it. */
export function missingPrerequisites(objects: readonly string[]): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push("run as root (eBPF maps, programs and netns)");
  for (const b of REFERENCE_FILES)
    if (!existsSync(join(buildDir, b)))
      problems.push(`build/bench/${b} is missing: run scripts/build-bench-c.sh (or make bench)`);
  for (const o of objects)
    if (!existsSync(join(fixturesDir, o)))
      problems.push(
        `test/fixtures/obj/${o} is missing: run scripts/build-fixtures.sh (or make bench)`,
      );
  return problems;
}
