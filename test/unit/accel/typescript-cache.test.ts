// The `tsbpf build` binary's TypeScript code cache (src/accel/typescript-load.ts): written by the
// first build, reused by later ones, and never a reason for a build to fail or differ.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const BIN = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));
const PROBE = join(root, "examples/trace_http/probe.ts");

function build(cacheHome: string, out: string): Uint8Array {
  const r = spawnSync(process.execPath, [BIN, "build", PROBE, "-o", out], {
    encoding: "utf8",
    // the path without the build snapshot (snapshot.test.ts covers that one)
    env: { ...process.env, NO_COLOR: "1", XDG_CACHE_HOME: cacheHome, TSBPF_SNAPSHOT: "0" },
  });
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(join(out, "trace_http", "trace_http.elf"));
}

test("first build writes the cache; a reused, corrupt or unwritable cache builds the same ELF", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-tscache-"));
  try {
    const cacheHome = join(dir, "cache");
    const first = build(cacheHome, join(dir, "a"));
    const files = readdirSync(join(cacheHome, "tsbpf"));
    assert.equal(files.length, 1, String(files));
    assert.match(files[0]!, /^typescript-.*\.v8cache$/);
    const cacheFile = join(cacheHome, "tsbpf", files[0]!);
    assert.ok(readFileSync(cacheFile).length > 100_000, "the cache holds compiled code");

    assert.deepEqual(build(cacheHome, join(dir, "b")), first);

    // V8 rejects a corrupt cache; the build compiles from source and rewrites it.
    writeFileSync(cacheFile, Buffer.from("not a code cache"));
    assert.deepEqual(build(cacheHome, join(dir, "c")), first);
    assert.ok(readFileSync(cacheFile).length > 100_000, "the corrupt cache was replaced");

    // A cache location that cannot be created costs speed only.
    const blocked = join(dir, "blocked");
    writeFileSync(blocked, "a file where the cache directory would go");
    assert.deepEqual(build(blocked, join(dir, "d")), first);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
