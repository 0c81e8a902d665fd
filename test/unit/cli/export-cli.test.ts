// `tsbpf export` / `tsbpf agent` refuse bad input before touching the kernel, with one line
// that names the file, key or option at fault.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));

function tsbpf(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", TSBPF_SERVER: "0" },
  });
  return { status: r.status, stderr: r.stderr };
}

test("tsbpf export/agent: config, object and option mistakes are one-line errors", () => {
  const dir = mkdtempSync(join(tmpdir(), `tsbpf-export-cli-${process.pid}-`));
  try {
    const ok = join(dir, "ok.json");
    writeFileSync(ok, '{"metrics":[]}');
    const typo = join(dir, "typo.yaml");
    writeFileSync(typo, "metrics:\n  - { name: x, type: counter, help: h, map: m, lables: [] }\n");
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ metrics: ");
    const cases: [string[], RegExp][] = [
      [
        ["export", "x.elf", "--config", join(dir, "none.yaml")],
        /^error: cannot read the exporter config .*none\.yaml: ENOENT/,
      ],
      [
        ["agent", join(dir, "none.elf"), "--config", ok],
        /^error: cannot read the object .*none\.elf: ENOENT/,
      ],
      [
        ["agent", "x.elf", "--config", typo],
        /^error: .*typo\.yaml: metric x: unknown key "lables" \(allowed: name, type, help, unit, map, labels, value\)/,
      ],
      [["agent", "x.elf", "--config", broken], /^error: .*broken\.json: not valid JSON/],
      [
        ["export", "x.elf", "--config", ok, "--listen", "nope"],
        /^error: --listen nope: expected host:port/,
      ],
      [
        ["export", "x.elf", "--config", ok, "--no-listen"],
        /^error: --no-listen without --otlp exports nothing/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = tsbpf(args);
      assert.notEqual(r.status, 0, args.join(" "));
      assert.match(r.stderr, re, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
    }
    const missing = tsbpf(["agent", "x.elf"]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /required option '--config <file>' not specified/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
