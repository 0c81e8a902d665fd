// The exporter benchmark's harness (bench/export.ts, bench/c/export_read.c) runs end to end on a
// small map: both sides read it, every scrape's samples are checked against the map by the bench
// itself, and it prints its table and JSON. No timing is asserted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));

test("bench/export.js --series 200,500 --scrapes 2 runs and checks every scrape", (t) => {
  if (!needsKernel(t)) return;
  const build = spawnSync(join(root, "scripts/build-bench-c.sh"), [], { encoding: "utf8" });
  assert.equal(build.status, 0, build.stdout + build.stderr);
  const r = spawnSync(
    process.execPath,
    [join(root, "dist/bench/export.js"), "--series", "200,500", "--scrapes", "2"],
    {
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0]!, /^\| series \| scrape median ms \|/);
  const json = JSON.parse(lines[lines.length - 1]!) as {
    rows: { series: number; bodyKiB: number; cReadMedianMs: number }[];
  };
  assert.deepEqual(
    json.rows.map((x) => x.series),
    [200, 500],
  );
  for (const row of json.rows) {
    assert.ok(row.bodyKiB > 0);
    assert.ok(row.cReadMedianMs >= 0);
  }
});
