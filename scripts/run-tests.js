#!/usr/bin/env node
// Runs the compiled test suites with Node's own test runner.
// Usage: node scripts/run-tests.js [unit] [kernel] [-- extra node --test args]
// Suites map to dist/test/<suite>/**/*.test.js; build first (`npm run build`).
//
// Kernel tests share one kernel with everything else on the machine (timers, RCU-deferred
// detaches, a busy 2-core VM), so a kernel test FILE that fails is run once more on its own.
// A file that passes then is reported loudly as FLAKY (never silently), and the run passes;
// a file that fails twice fails the run. Unit tests are never retried.
import { readdirSync, statSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { spawn } from "node:child_process";

const args = process.argv.slice(2);
const dash = args.indexOf("--");
const suites = (dash < 0 ? args : args.slice(0, dash)).filter(Boolean);
const extra = dash < 0 ? [] : args.slice(dash + 1);
if (suites.length === 0) suites.push("unit", "kernel");

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".test.js") ? [p] : [];
  });
}

/** Runs node --test on `files` (TAP to our stdout); resolves with the counts and failing files. */
function run(files) {
  return new Promise((resolve) => {
    // Kernel tests share global kernel state (netns names, bpffs pins), so files run one at a time.
    const child = spawn(
      process.execPath,
      ["--test", "--test-concurrency=1", "--test-reporter=tap", ...extra, ...files],
      {
        stdio: ["ignore", "pipe", "inherit"],
        // Builds in tests start no build server (test/unit/accel/server.test.ts tests it): one
        // would outlive the run. TSBPF_SERVER=1 runs the suite's builds through servers.
        env: { ...process.env, TSBPF_SERVER: process.env.TSBPF_SERVER ?? "0" },
      },
    );
    let text = "";
    child.stdout.on("data", (d) => {
      process.stdout.write(d);
      text += d.toString();
    });
    child.on("close", (code) => {
      const failed = new Set();
      // A failing test's YAML block names its file: location: '/abs/path/x.test.js:12:3'.
      for (const block of text.split(/^(?=\s*(?:not )?ok \d+ )/m)) {
        const head = block.split("\n")[0];
        if (!/^\s*not ok \d+ /.test(head) || /# TODO/.test(head)) continue;
        const m = /location: '([^']+?\.test\.js):\d+:\d+'/.exec(block);
        if (m) failed.add(relative(process.cwd(), m[1]));
      }
      resolve({
        code: code ?? 1,
        pass: total(text, "pass"),
        fail: total(text, "fail"),
        skipped: total(text, "skipped"),
        failed,
      });
    });
  });
}

/** The value of the last top-level `# <key> N` summary line. */
function total(text, key) {
  const all = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, "gm"))];
  return all.length ? Number(all.at(-1)[1]) : 0;
}

const files = suites.flatMap((s) => walk(join("dist", "test", s))).sort();
if (files.length === 0) {
  console.error(
    `no compiled tests found for suites ${suites.join(", ")}; run \`npm run build\` first`,
  );
  process.exit(1);
}

const first = await run(files);
const summary = (pass, fail, note = "") =>
  console.log(`\n${pass} passed, ${fail} failed, ${first.skipped} skipped${note}`);
if (first.code === 0) {
  summary(first.pass, first.fail);
  process.exit(0);
}
const failed = [...first.failed];
const retryable =
  failed.length > 0 && failed.every((f) => f.startsWith(join("dist", "test", "kernel")));
const flaky = [];
if (retryable)
  for (const f of failed) {
    console.log(`\n# retrying ${f} once on its own (it failed in the full run)`);
    if ((await run([f])).code === 0) flaky.push(f);
  }
if (retryable && flaky.length === failed.length) {
  // Every test of a file that passed on its own passed, so every first-run failure passed.
  console.log(
    `\n# FLAKY: failed in the full run, passed when run again alone (look into these):\n` +
      flaky.map((f) => `#   ${f}`).join("\n"),
  );
  summary(first.pass + first.fail, 0, ` (${flaky.length} flaky file(s) passed on retry)`);
  process.exit(0);
}
if (failed.length === 0) console.log("\n# the test run failed without a failing test (see above)");
summary(first.pass, Math.max(first.fail, 1));
process.exit(1);
