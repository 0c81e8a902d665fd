// docs/observe.md: the page's probe is written to a temporary directory, built with
// `tsbpf build`, and every command runs (as root, in a network namespace of this process) and
// prints what the page shows — log lines and histograms of a real run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { netnsUnavailable } from "../../support/netns.js";
import { matchesOutput, runnableBlocks, type Block, type Command } from "../tutorial/markdown.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url)).replace(/\/$/, "");
const DOC = join(ROOT, "docs/observe.md");
const lines = (s: string) => (s === "" ? [] : s.replace(/\n$/, "").split("\n"));

test("docs/observe.md: the probe builds, every command runs and prints what the page shows", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const blocks = runnableBlocks(readFileSync(DOC, "utf8"));
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-observe-doc-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const ns = `tsbpf-obs-${process.pid}`;
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
    TSBPF_SERVER: "0", // no build server left behind
  };
  const adapt = (cmd: string) => cmd.replace(/\btsbpf-obs\b/g, ns);
  const background: ChildProcess[] = [];
  let ran = 0;

  const runSync = (c: Command, block: Block & { kind: "sh" }) => {
    const where = `docs/observe.md:${block.line}`;
    ran++;
    const r = spawnSync("timeout", ["-k", "5", "120", "bash", "-c", adapt(c.cmd)], {
      cwd: tmp,
      env,
      encoding: "utf8",
    });
    const output = r.stdout + r.stderr;
    assert.equal(r.status, 0, `${where}: \`${c.cmd}\` failed (${r.status}):\n${output}`);
    assert.ok(
      matchesOutput(c.expected, lines(output)),
      `${where}: output of \`${c.cmd}\` differs.\n--- page:\n${c.expected.join("\n")}\n--- actual:\n${output}`,
    );
  };

  try {
    for (let b = 0; b < blocks.length; b++) {
      const block = blocks[b]!;
      if (block.kind === "file") {
        writeFileSync(join(tmp, block.path), block.text);
        continue;
      }
      for (const c of block.commands) {
        if (!c.interrupted) {
          runSync(c, block);
          continue;
        }
        ran++;
        const where: string = `docs/observe.md:${block.line}`;
        const child = spawn("bash", ["-c", adapt(c.cmd)], {
          cwd: tmp,
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
        // the last reply's log lines are printed once read: wait for them, not for a time
        for (
          const end = Date.now() + 20_000;
          out.split("\n").filter((l) => l.startsWith("[INFO]")).length < 6 && Date.now() < end;
          await new Promise((r) => setTimeout(r, 50))
        );
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
  }
  assert.ok(ran >= 5, `only ${ran} commands found in the page`);
});
