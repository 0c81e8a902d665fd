// `tsbpf new --template kprobe|fentry`: created, built, type-checked, and the loader run until
// it prints a file deletion by a process of ours. The host kernel has no kprobes and refuses
// trampolines, so these run in the 6.1/6.12 VMs (make test-vm; TSBPF_REQUIRE_FEATURES there
// turns a skip into a failure).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { createTemplate, runUntilSeen } from "./template-run.js";

const tmp = mkdtempSync(join(tmpdir(), "tsbpf-templates-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const NEEDS = {
  kprobe: { minKernel: "4.17", feature: "kprobes" },
  fentry: { minKernel: "5.5", feature: "fentry" },
} as const;

for (const template of ["kprobe", "fentry"] as const) {
  test(`tsbpf new --template ${template}: the loader prints a file deletion (do_unlinkat)`, async (t) => {
    if (!needsKernel(t, NEEDS[template])) return;
    const p = createTemplate(tmp, template, `t-${template}`, { typecheck: false });
    const file = join(tmp, `gone-${template}`);
    // node processes delete the file (a missing file still enters do_unlinkat): their pids
    const pids = new Set<string>();
    const lines = await runUntilSeen(p.dir, [p.elf], {
      trigger: () => {
        const r = spawnSync(
          process.execPath,
          [
            "-e",
            `try { require("fs").unlinkSync(${JSON.stringify(file)}) } catch {} console.log(process.pid)`,
          ],
          { encoding: "utf8" },
        );
        pids.add(r.stdout.trim());
      },
      expect: (l) => pids.has(/^pid (\d+) node$/.exec(l)?.[1] ?? ""),
    });
    assert.equal(lines[0], `Loaded: t_${template}, ${template === "kprobe" ? "KProbe" : "FEntry"}`);
  });
}
