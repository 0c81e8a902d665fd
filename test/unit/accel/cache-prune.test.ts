// pruneCache (src/accel/cache-prune.ts): snapshots of package directories that are gone go, with
// their server files unless the server still runs; live ones stay; only the newest TypeScript
// code caches stay.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEEP_CODE_CACHES, pruneCache } from "../../../src/accel/cache-prune.js";

test("pruneCache removes what no package can use any more, and nothing else", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-prune-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pkgFile = join(dir, "package-manifest.json"); // stands for a live package's bundle manifest
  writeFileSync(pkgFile, "{}");
  const entry = (id: string, first: string, extra: string[] = []) => {
    const base = `build-${id}-nodev20.20.2-x64`;
    writeFileSync(join(dir, `${base}.json`), JSON.stringify({ files: [{ path: first }] }));
    writeFileSync(join(dir, `${base}.blob`), "blob");
    for (const suffix of extra) writeFileSync(join(dir, base + suffix), "");
    return base;
  };
  const live = entry("1111", pkgFile, [".sock", ".sock.log"]);
  const gone = entry("2222", join(dir, "deleted/dist/snapshot/tsbpf-build.json"), [
    ".sock",
    ".sock.pid",
    ".sock.log",
    ".lock",
  ]);
  writeFileSync(join(dir, `${gone}.sock.pid`), "999999999\n"); // no such process
  // a package that is gone but whose server still runs (this process stands in for it)
  const serving = entry("3333", join(dir, "deleted-too/x.json"), [".sock", ".sock.pid"]);
  writeFileSync(join(dir, `${serving}.sock.pid`), `${process.pid}\n`);
  writeFileSync(join(dir, "build-4444-nodev20.20.2-x64.json"), "{ not json"); // being written
  const caches = Array.from({ length: KEEP_CODE_CACHES + 3 }, (_, i) => {
    const name = `typescript-5.9.3-1-${i}-nodev20.20.2-x64.v8cache`;
    writeFileSync(join(dir, name), "");
    utimesSync(join(dir, name), 1000 + i, 1000 + i);
    return name;
  });
  writeFileSync(join(dir, "unrelated.txt"), "");

  const removed = pruneCache(dir).sort();
  const left = new Set(readdirSync(dir));
  for (const suffix of [".json", ".blob", ".sock", ".sock.log"]) assert.ok(left.has(live + suffix));
  for (const suffix of [".json", ".blob", ".sock", ".sock.pid", ".sock.log", ".lock"])
    assert.ok(!left.has(gone + suffix), gone + suffix);
  for (const suffix of [".json", ".blob"]) assert.ok(!left.has(serving + suffix));
  for (const suffix of [".sock", ".sock.pid"]) assert.ok(left.has(serving + suffix));
  assert.ok(left.has("build-4444-nodev20.20.2-x64.json") && left.has("unrelated.txt"));
  // the oldest three code caches go
  assert.deepEqual(
    caches.filter((c) => !left.has(c)),
    caches.slice(0, 3),
  );
  assert.equal(removed.length, 6 + 2 + 3);
  assert.deepEqual(pruneCache(dir), [], "a second run finds nothing");
  assert.deepEqual(pruneCache(join(dir, "missing")), []);
});
