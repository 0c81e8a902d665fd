// `comm` labels from a real probe: a TypeScript tracepoint probe (test/fixtures/probes/
// export_comm.ts) counts openat() calls by task name and tgid; the exporter decodes the name
// with the `string` decoder and folds the tgid away (or keeps it as a number). The counts are
// checked exactly: a copy of cat under a unique name, run with 1 and then 5 files to open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileProbe } from "../../../src/compiler/index.js";
import { Loader } from "../../../src/load/loader.js";
import { checkConfig } from "../../../src/export/config.js";
import { MapCollector, type Series } from "../../../src/export/collector.js";
import { Exposition } from "../../../src/export/prometheus.js";
import { needsKernel } from "../../support/kernel.js";

const FIXTURE = fileURLToPath(
  new URL("../../../../test/fixtures/probes/export_comm.ts", import.meta.url),
);

test("comm labels from a tracepoint probe: task names decoded as strings, counts exact", async (t) => {
  if (!needsKernel(t)) return;
  const compiled = compileProbe(FIXTURE);
  const dir = mkdtempSync(join(tmpdir(), `tsbpf-comm-${process.pid}-`));
  const name = `tsbpfcat${process.pid % 100000}`; // ≤ 15 bytes: the whole comm
  const cat = join(dir, name);
  copyFileSync("/bin/cat", cat);
  try {
    await using loaded = await Loader.create().load(compiled.elf);
    const collector = MapCollector.bind(
      checkConfig({
        metrics: [
          {
            name: "opens",
            type: "counter",
            help: "openat() calls by task name",
            map: "opens",
            value: "n",
            labels: [{ name: "comm", field: "comm", decode: "string" }],
          },
          {
            name: "opens_by_task",
            type: "counter",
            help: "openat() calls by task name and tgid",
            map: "opens",
            value: "n",
            labels: [
              { name: "comm", field: "comm", decode: "string" },
              { name: "tgid", field: "tgid" },
            ],
          },
        ],
      }),
      { maps: loaded.maps, object: loaded.collection.object },
    );
    const mine = () => {
      const [byComm, byTask] = collector.collect() as { series: Series[] }[];
      return {
        total: byComm!.series.find((s) => s.labels.comm === name)?.value ?? 0,
        tasks: byTask!.series.filter((s) => s.labels.comm === name),
      };
    };
    assert.equal(mine().total, 0);
    const one = spawnSync(cat, ["/dev/null"]);
    assert.equal(one.status, 0);
    const a = mine();
    assert.ok(a.total >= 1, "the run's openat() calls are counted under its name");
    assert.deepEqual(a.tasks, [{ labels: { comm: name, tgid: String(one.pid) }, value: a.total }]);
    const five = spawnSync(cat, ["/dev/null", "/dev/null", "/dev/null", "/dev/null", "/dev/null"]);
    assert.equal(five.status, 0);
    const b = mine();
    // The second run opens what the first did, plus four more files; both fold into one series.
    assert.equal(b.total - 2 * a.total, 4);
    assert.equal(b.tasks.length, 2);
    assert.equal(b.tasks.find((s) => s.labels.tgid === String(five.pid))?.value, a.total + 4);
    const text = (
      await (await Exposition.create(collector.specs, () => collector.collect())).render(false)
    ).body;
    assert.match(text, new RegExp(`^opens_total\\{comm="${name}"\\} ${b.total}$`, "m"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
