// The libbpf reference benchmarks (bench/c) build, run, and report what bench/c/README.md
// promises: one JSON line with the documented fields and self-checked results.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kernelUnavailable, needsKernel } from "../support/kernel.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const bin = (name: string) => join(root, "build", "bench", name);

function run(cmd: string, args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: root, timeout: 60_000 });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** Runs one benchmark binary and returns its single JSON line, parsed. */
function bench(name: string, args: string[]): Record<string, unknown> {
  const r = run(bin(name), args);
  assert.equal(r.status, 0, `${name} ${args.join(" ")} failed:\n${r.err}`);
  const lines = r.out.trim().split("\n");
  assert.equal(lines.length, 1, `${name} must print exactly one line, got:\n${r.out}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

const why = kernelUnavailable();

before(() => {
  if (why !== undefined) return;
  for (const script of ["kernel-setup.sh", "build-fixtures.sh", "build-bench-c.sh"]) {
    const r = run(join(root, "scripts", script), []);
    assert.equal(r.status, 0, `scripts/${script} failed:\n${r.out}${r.err}`);
  }
});

for (const mode of ["batch", "threaded"]) {
  test(`ringbuf_consume --mode ${mode} consumes every record in order`, (t) => {
    if (!needsKernel(t, why)) return;
    const n = 200_000;
    const r = bench("ringbuf_consume", ["--mode", mode, "--events", String(n), "--batch", "4096"]);
    assert.equal(r.bench, "ringbuf");
    assert.equal(r.mode, mode);
    assert.equal(r.events, n);
    assert.equal(r.record_bytes, 32);
    assert.equal(r.checksum, (3 * n * (n - 1)) / 2);
    assert.ok((r.events_per_sec as number) > 0 && (r.consume_events_per_sec as number) > 0);
  });
}

test("ringbuf_consume rejects a batch larger than the ring", (t) => {
  if (!needsKernel(t, why)) return;
  const r = run(bin("ringbuf_consume"), ["--batch", "8000000", "--events", "10"]);
  assert.equal(r.status, 1);
  assert.match(r.err, /does not fit/);
});

test("map_lookup reports checked lookups per second", (t) => {
  if (!needsKernel(t, why)) return;
  const r = bench("map_lookup", ["--entries", "1024", "--seconds", "1"]);
  assert.equal(r.bench, "map_lookup");
  assert.equal(r.entries, 1024);
  const lookups = r.lookups as number;
  assert.ok(lookups > 0 && lookups % 4096 === 0);
  assert.ok((r.seconds as number) >= 1);
});

test("load_attach times a tracepoint fixture", (t) => {
  if (!needsKernel(t, why)) return;
  const r = bench("load_attach", ["--iterations", "2"]);
  assert.equal(r.object, "tp_openat.o");
  assert.equal(r.program, "tp_openat_prog");
  assert.equal(r.iterations, 2);
  const min = r.min_ms as number;
  assert.ok(
    min > 0 && min <= (r.median_ms as number) && (r.median_ms as number) <= (r.max_ms as number),
  );
  assert.ok((r.open_load_mean_ms as number) <= (r.mean_ms as number));
});

test("load_attach names a missing program", (t) => {
  if (!needsKernel(t, why)) return;
  const r = run(bin("load_attach"), ["--prog", "no_such_prog", "--iterations", "1"]);
  assert.equal(r.status, 1);
  assert.match(r.err, /no program no_such_prog/);
});
