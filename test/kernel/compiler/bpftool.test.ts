// Interop: objects from tsbpf's compiler load with libbpf (bpftool prog loadall), not only
// with our own loader.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { ensureBpffs } from "../../../src/sys/bpffs.js";

const root = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));

for (const probe of [
  "examples/trace_http/probe.ts",
  "test/fixtures/probes/maps.ts",
  "test/fixtures/probes/kinds.ts",
  "test/fixtures/probes/language.ts", // bpf-to-bpf calls into .text
]) {
  test(`bpftool prog loadall accepts ${probe}`, (t) => {
    if (!needsKernel(t)) return;
    const compiled = compileProbe(root(probe));
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-bpftool-"));
    ensureBpffs();
    const pin = `/sys/fs/bpf/tsbpf-compiler-${process.pid}`;
    try {
      const obj = join(dir, "probe.o");
      writeFileSync(obj, compiled.elf);
      // kinds.ts has tp_btf and kprobe programs libbpf wants to resolve; autoattach is off.
      execFileSync("bpftool", ["prog", "loadall", obj, pin], { stdio: "pipe" });
      for (const p of compiled.programs)
        assert.ok(existsSync(join(pin, p.name)), `${p.name} pinned`);
    } finally {
      rmSync(pin, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
