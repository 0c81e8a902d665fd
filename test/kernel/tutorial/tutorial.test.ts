// docs/tutorial.md cannot rot: every command in it runs here, in order, in a temp directory
// with the namespaces renamed to unique ones, and its output is compared with the text.
// See markdown.ts for how the markdown marks commands, output, files and Ctrl-C.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { matchesOutput, runnableBlocks, type Block, type Command } from "./markdown.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url)).replace(/\/$/, "");
const TUTORIAL = join(root, "docs/tutorial.md");

const lines = (s: string) => (s === "" ? [] : s.replace(/\n$/, "").split("\n"));

/** A command started in the background, or running until Ctrl-C, with its output so far. */
class Running {
  out = "";
  /** exit code, 130 when ended by SIGINT, -1 by another signal; undefined while running */
  code: number | undefined;
  readonly child: ChildProcess;
  readonly closed: Promise<void>;
  constructor(cmd: string, cwd: string, env: NodeJS.ProcessEnv) {
    // Its own process group, so Ctrl-C reaches every process of the command, as in a terminal.
    this.child = spawn("bash", ["-c", cmd], { cwd, env, detached: true, stdio: "pipe" });
    this.child.stdin!.end();
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => (this.out += d));
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => (this.out += d));
    this.closed = new Promise((r) =>
      this.child.on("close", (code, signal) => {
        this.code = code ?? (signal === "SIGINT" ? 130 : -1);
        r();
      }),
    );
  }
  signal(sig: NodeJS.Signals): void {
    if (this.code === undefined) process.kill(-this.child.pid!, sig);
  }
  async until(ok: () => boolean, what: string, ms = 20_000): Promise<void> {
    for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 50))) {
      if (this.code !== undefined) throw new Error(`${what}: exited ${this.code}:\n${this.out}`);
      if (Date.now() > end) throw new Error(`${what}: timed out; output so far:\n${this.out}`);
    }
  }
}

test("docs/tutorial.md: every command runs and prints what the tutorial shows", async (t) => {
  if (!needsKernel(t)) return;
  const blocks = runnableBlocks(readFileSync(TUTORIAL, "utf8"));
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-tutorial-"));
  const id = `${process.pid}`;
  const namespaces = [`tsbpf-web-${id}`, `tsbpf-client-${id}`];
  // `tsbpf` on the PATH is this checkout's, as `npm install --global tsbpf` would provide.
  const bin = join(tmp, ".bin");
  mkdirSync(bin);
  writeFileSync(
    join(bin, "tsbpf"),
    `#!/bin/sh\nexec "${process.execPath}" "${root}/dist/src/cli/bin.js" "$@"\n`,
  );
  chmodSync(join(bin, "tsbpf"), 0o755);
  const env = {
    ...process.env,
    PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}`,
    NO_COLOR: "1",
    TSBPF_CHECKOUT: root,
  };
  const background: Running[] = [];
  let cwd = join(tmp, "work");
  mkdirSync(cwd);
  let ran = 0;

  /** The tutorial's command as run here: unique namespaces, npm working from its cache. */
  const adapt = (cmd: string) =>
    cmd
      .replace(/\btsbpf-(web|client)\b/g, `tsbpf-$1-${id}`)
      .replace(/^npm install$/, "npm install --prefer-offline --no-audit --no-fund");

  const check = (c: Command, output: string, where: string) =>
    assert.ok(
      matchesOutput(c.expected, lines(output)),
      `${where}: output of \`${c.cmd}\` differs from the tutorial.\n--- tutorial:\n` +
        `${c.expected.join("\n")}\n--- actual:\n${output}`,
    );

  const runSync = (c: Command, block: Block & { kind: "sh" }) => {
    const where = `docs/tutorial.md:${block.line}`;
    const cd = /^cd (\S+)$/.exec(c.cmd);
    if (cd) {
      cwd = resolve(cwd, cd[1]!);
      return;
    }
    ran++;
    if (c.cmd.endsWith(" &")) {
      const p = new Running(adapt(c.cmd.slice(0, -2)), cwd, env);
      background.push(p);
      return p.until(() => matchesOutput(c.expected, lines(p.out)), `${where}: ${c.cmd}`);
    }
    // coreutils timeout signals its whole process group: a command that hangs (a program the
    // verifier should have refused, now loaded and waiting for events) leaves no npm/node
    // grandchildren holding links behind, as spawnSync's own timeout (direct child only) did.
    const r = spawnSync("timeout", ["-k", "5", "120", "bash", "-c", adapt(c.cmd)], {
      cwd,
      env,
      encoding: "utf8",
    });
    const output = r.stdout + r.stderr + (r.status === 124 ? "\n(timed out after 120 s)" : "");
    if (block.fails) assert.notEqual(r.status, 0, `${where}: \`${c.cmd}\` should fail:\n${output}`);
    else assert.equal(r.status, 0, `${where}: \`${c.cmd}\` failed (${r.status}):\n${output}`);
    check(c, output, where);
    return undefined;
  };

  try {
    for (let b = 0; b < blocks.length; b++) {
      const block = blocks[b]!;
      if (block.kind === "file") {
        writeFileSync(join(cwd, block.path), block.text);
        continue;
      }
      assert.ok(!block.secondTerminal, `docs/tutorial.md:${block.line}: no command to run beside`);
      for (const c of block.commands) {
        if (!c.interrupted) {
          await runSync(c, block);
          continue;
        }
        // Runs until Ctrl-C: start it, wait for its first line, run the second-terminal
        // blocks that follow (with any files between), then interrupt it and compare.
        ran++;
        const where = `docs/tutorial.md:${block.line}`;
        const p = new Running(adapt(c.cmd), cwd, env);
        background.push(p);
        await p.until(() => lines(p.out).length > 0, `${where}: ${c.cmd}`);
        for (let n = b + 1; n < blocks.length; n++) {
          const next = blocks[n]!;
          if (next.kind === "sh" && !next.secondTerminal) break;
          if (next.kind === "file") continue;
          for (const c2 of next.commands) {
            await runSync(c2, next);
            await new Promise((r) => setTimeout(r, 300)); // one event at a time, in order
          }
          b = n;
        }
        await p.until(() => matchesOutput(c.expected, lines(p.out)), `${where}: ${c.cmd}`);
        p.signal("SIGINT");
        await p.closed;
        assert.ok(p.code === 0 || p.code === 130, `${where}: exit ${p.code} after Ctrl-C`);
        check(c, p.out, where);
      }
    }
  } finally {
    for (const p of background) p.signal("SIGKILL");
    for (const ns of namespaces) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    rmSync(tmp, { recursive: true, force: true });
  }
  const left = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
  for (const ns of namespaces) assert.ok(!left.includes(ns), `the tutorial removes ${ns}`);
  assert.ok(ran >= 20, `only ${ran} commands found in the tutorial`);
  t.diagnostic(`${ran} commands run`);
});
