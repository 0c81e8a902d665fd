// `bench/run.js --quick` runs end to end on this machine: both sides of every comparison
// produce numbers, checksums agree (the run fails otherwise), and the table and
// results.json have the promised shape. The figures themselves are not judged: this is a
// smoke test of the harness, not a performance gate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kernelUnavailable, needsKernel } from "../support/kernel.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));

function sh(cmd: string, args: string[]) {
  return spawnSync(cmd, args, { encoding: "utf8", cwd: root, timeout: 240_000 });
}

test("bench/run.js --quick prints a well-formed comparison table and results.json", (t) => {
  if (!needsKernel(t, kernelUnavailable())) return;
  for (const script of ["kernel-setup.sh", "build-fixtures.sh", "build-bench-c.sh"]) {
    const r = sh(join(root, "scripts", script), []);
    assert.equal(r.status, 0, `scripts/${script} failed:\n${r.stdout}${r.stderr}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-"));
  let benchPid: number | undefined;
  try {
    const out = join(dir, "results.json");
    const r = sh(process.execPath, [
      join(root, "dist", "bench", "run.js"),
      "--quick",
      "--out",
      out,
    ]);
    benchPid = r.pid;
    assert.equal(r.status, 0, `bench failed:\n${r.stderr}`);

    const lines = r.stdout.split("\n");
    const header = lines[0]!.split("|").map((c) => c.trim());
    assert.deepEqual(header, ["metric", "tsbpf", "libbpf", "ratio", "target", "pass"]);
    assert.match(lines[1]!, /^-+(-\+-+){5}$/);
    const rows = lines.slice(2, lines.indexOf("", 2)).map((l) => l.split("|").map((c) => c.trim()));
    const metrics = rows.map((c) => c[0]!);
    for (const want of [
      /^ringbuf batch, consume\+decode only \(events\/s\)$/,
      /^ringbuf threaded/,
      /^hash u32→u64 lookups, BpfMap\.get \(lookups\/s\)$/,
      /^load\+attach tracepoint, median \(ms\)$/,
      /^detach\+close tracepoint/,
      /^load\+attach XDP/,
    ])
      assert.ok(
        metrics.some((m) => want.test(m)),
        `no row matching ${want} in:\n${r.stdout}`,
      );
    for (const c of rows) {
      assert.equal(c.length, 6, `row with ${c.length} cells: ${c.join(" | ")}`);
      assert.match(c[1]!, /^\d+(\.\d+)?( [kMG])?$/, `tsbpf cell of ${c[0]}`);
      assert.match(c[2]!, /^\d+(\.\d+)?( [kMG])?$/, `libbpf cell of ${c[0]}`);
      assert.match(c[3]!, /^\d+\.\d\d×$/, `ratio cell of ${c[0]}`);
      assert.match(c[4]!, /^(>=|<=) \d+(\.\d+)?×$|^–$/, `target cell of ${c[0]}`);
      assert.ok(["✓", "✗", "–"].includes(c[5]!), `pass cell of ${c[0]}`);
      assert.equal(c[4] === "–", c[5] === "–", `${c[0]}: a verdict exactly where a target is`);
    }
    assert.match(r.stdout, /\n(\d+) of (\d+) targets met/);

    const json = JSON.parse(readFileSync(out, "utf8")) as {
      date: string;
      machine: { cpus: number; kernel: string };
      rows: { metric: string; tsbpf: number; libbpf: number; ratio: number }[];
    };
    assert.ok(!Number.isNaN(Date.parse(json.date)));
    assert.ok(json.machine.cpus >= 1);
    assert.equal(json.rows.length, rows.length);
    for (const row of json.rows) {
      assert.ok(row.tsbpf > 0 && row.libbpf > 0, `${row.metric}: both sides measured`);
      assert.ok(Math.abs(row.ratio - row.tsbpf / row.libbpf) < 1e-9, `${row.metric}: ratio`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The XDP case made namespaces of its own (named after the bench's pid); none may remain.
  const ns = sh("ip", ["netns", "list"]).stdout;
  assert.ok(!ns.includes(`tsbpf-${benchPid}-`), `namespaces left behind:\n${ns}`);
});
