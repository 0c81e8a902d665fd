// docs/fleet.md's config blocks are real: the exporter config passes tsbpf's checker and is the
// example's (examples/fleet/exporter.yaml, which the fleet test runs), and the Prometheus scrape
// config passes Debian's `promtool check config` (skipped where promtool is missing, failing
// under CI=true, where make deps installs the prometheus package). Debian builds Prometheus
// without Kubernetes service discovery, so the test swaps `kubernetes_sd_configs` for a static
// target before promtool checks the rest (the relabelling); the discovery block itself is
// checked here against the fields Prometheus documents for it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { checkConfig } from "../../../src/export/config.js";
import { inCI } from "../../support/kernel.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const doc = readFileSync(join(root, "docs/fleet.md"), "utf8");
const yamlBlocks = [...doc.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);

test("the exporter config in docs/fleet.md is valid and is examples/fleet/exporter.yaml", () => {
  const block = yamlBlocks.find((b) => b.startsWith("metrics:"));
  assert.ok(block, "an exporter config block");
  const example = parse(readFileSync(join(root, "examples/fleet/exporter.yaml"), "utf8"));
  assert.deepEqual(checkConfig(parse(block), "docs/fleet.md"), checkConfig(example));
});

test("the Prometheus scrape config in docs/fleet.md passes promtool check config", (t) => {
  const block = yamlBlocks.find((b) => b.startsWith("scrape_configs:"));
  assert.ok(block, "a scrape config block");
  const probe = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  if (probe.error) {
    if (inCI)
      throw new Error("promtool (Debian package prometheus) is missing: make deps installs it");
    t.skip("promtool not installed");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), `tsbpf-promtool-${process.pid}-`));
  try {
    const config = parse(block) as { scrape_configs: Record<string, unknown>[] };
    for (const job of config.scrape_configs) {
      const sd = job.kubernetes_sd_configs as { role: string; namespaces?: { names: string[] } }[];
      assert.equal(sd.length, 1);
      assert.deepEqual(Object.keys(sd[0]!).sort(), ["namespaces", "role"]);
      assert.equal(sd[0]!.role, "pod");
      assert.deepEqual(sd[0]!.namespaces, { names: ["tsbpf"] });
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: ["127.0.0.1:9435"] }];
    }
    const file = join(dir, "prometheus.yml");
    writeFileSync(file, JSON.stringify(config)); // JSON is YAML
    const r = spawnSync("promtool", ["check", "config", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
