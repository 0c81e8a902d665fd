// docs/inspect.md: every command of the page runs (as root, in a network namespace of this
// process) and prints what the page shows; the `hist.o` it uses is the clang fixture. Then
// hist.o's typed skeleton loads it and reads a struct-keyed counter through a typed map.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";
import { netnsUnavailable } from "../../support/netns.js";
import { matchesOutput, runnableBlocks, type Block, type Command } from "../tutorial/markdown.js";
import { generateSkeleton } from "../../../src/skel/generate.js";
import { Loader } from "../../../src/load/loader.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url)).replace(/\/$/, "");
const DOC = join(ROOT, "docs/inspect.md");
const lines = (s: string) => (s === "" ? [] : s.replace(/\n$/, "").split("\n"));

test("docs/inspect.md: every command runs and prints what the page shows", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const blocks = runnableBlocks(readFileSync(DOC, "utf8"));
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-inspect-doc-"));
  const ns = `tsbpf-lab-${process.pid}`;
  const bin = join(tmp, ".bin");
  mkdirSync(bin);
  writeFileSync(
    join(bin, "tsbpf"),
    `#!/bin/sh\nexec "${process.execPath}" "${ROOT}/dist/src/cli/bin.js" "$@"\n`,
  );
  chmodSync(join(bin, "tsbpf"), 0o755);
  const env = {
    ...process.env,
    PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}`,
    NO_COLOR: "1",
  };
  const cwd = dirname(fixture("hist.o"));
  const adapt = (cmd: string) => cmd.replace(/\btsbpf-lab\b/g, ns);
  const background: ChildProcess[] = [];
  let ran = 0;

  const runSync = (c: Command, block: Block & { kind: "sh" }) => {
    const where = `docs/inspect.md:${block.line}`;
    ran++;
    const r = spawnSync("timeout", ["-k", "5", "60", "bash", "-c", adapt(c.cmd)], {
      cwd,
      env,
      encoding: "utf8",
    });
    const output = r.stdout + r.stderr;
    if (block.fails) assert.notEqual(r.status, 0, `${where}: \`${c.cmd}\` should fail:\n${output}`);
    else assert.equal(r.status, 0, `${where}: \`${c.cmd}\` failed (${r.status}):\n${output}`);
    assert.ok(
      matchesOutput(c.expected, lines(output)),
      `${where}: output of \`${c.cmd}\` differs.\n--- page:\n${c.expected.join("\n")}\n--- actual:\n${output}`,
    );
  };

  try {
    for (let b = 0; b < blocks.length; b++) {
      const block = blocks[b]!;
      if (block.kind !== "sh") continue;
      for (const c of block.commands) {
        if (!c.interrupted) {
          runSync(c, block);
          continue;
        }
        ran++;
        const where: string = `docs/inspect.md:${block.line}`;
        const child = spawn("bash", ["-c", adapt(c.cmd)], {
          cwd,
          env,
          detached: true,
          stdio: "pipe",
        });
        background.push(child);
        let out = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
        const closed = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
        for (
          const end = Date.now() + 20_000;
          !out.includes("\n");
          await new Promise((r) => setTimeout(r, 50))
        )
          assert.ok(
            Date.now() < end && child.exitCode === null,
            `${where}: ${c.cmd} did not start:\n${out}`,
          );
        for (let n = b + 1; n < blocks.length; n++) {
          const next = blocks[n]!;
          if (next.kind !== "sh") continue;
          if (!next.secondTerminal) break;
          for (const c2 of next.commands) runSync(c2, next);
          b = n;
        }
        process.kill(-child.pid!, "SIGINT");
        const code = await closed;
        assert.equal(code, 0, `${where}: exit ${code} after Ctrl-C:\n${out}`);
        assert.ok(
          matchesOutput(c.expected, lines(out)),
          `${where}: output of \`${c.cmd}\` differs.\n--- page:\n${c.expected.join("\n")}\n--- actual:\n${out}`,
        );
      }
    }
  } finally {
    for (const p of background) if (p.exitCode === null) process.kill(-p.pid!, "SIGKILL");
    spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    rmSync(tmp, { recursive: true, force: true });
  }
  assert.ok(ran >= 14, `only ${ran} commands found in the page`);
});

test("docs/inspect.md: hist.o's skeleton loads it and reads icmp_count through a typed map", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = join(ROOT, "build", `skel-kernel-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const source = generateSkeleton(readFileSync(fixture("hist.o")), {
    name: "hist",
    elfPath: fixture("hist.o"),
    embed: true,
  });
  const file = join(dir, "hist.skel.js");
  // inside the package directory, "tsbpf" resolves to this checkout (package self-reference)
  writeFileSync(
    file,
    ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText,
  );
  const { Hist } = (await import(file)) as {
    Hist: {
      load(l: Loader): Promise<{
        maps: {
          icmp_count: {
            get(k: { type: number; code: number }): bigint | undefined;
            set(k: { type: number; code: number }, v: bigint): void;
          };
        };
        close(): void;
      }>;
    };
  };
  // loaded without attaching (skip): the typed map is what is checked here
  const probe = await Hist.load(Loader.create().skip("xdp_hist"));
  try {
    assert.equal(probe.maps.icmp_count.get({ type: 8, code: 0 }), undefined);
    probe.maps.icmp_count.set({ type: 8, code: 0 }, 5n);
    assert.equal(probe.maps.icmp_count.get({ type: 8, code: 0 }), 5n);
  } finally {
    probe.close();
  }
});
