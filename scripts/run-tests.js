#!/usr/bin/env node
// Runs the compiled test suites with Node's own test runner.
// Usage: node scripts/run-tests.js [unit] [kernel] [-- extra node --test args]
// Suites map to dist/test/<suite>/**/*.test.js; build first (`npm run build`).
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

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

const files = suites.flatMap((s) => walk(join("dist", "test", s))).sort();
if (files.length === 0) {
  console.error(
    `no compiled tests found for suites ${suites.join(", ")}; run \`npm run build\` first`,
  );
  process.exit(1);
}
// Kernel tests share global kernel state (netns names, bpffs pins), so files run one at a time.
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...extra, ...files], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
