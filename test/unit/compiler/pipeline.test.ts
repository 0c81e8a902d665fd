// The pass order stated in compiler/pipeline.ts holds, and compiler stages import only
// earlier stages (Go's passOrder check, plus the stage direction docs/architecture.md draws).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { CLEANUPS, OPTIMIZE, ORDER } from "../../../src/compiler/pipeline.js";

test("every ordering constraint holds in the pass tables", () => {
  const lists = { cleanups: CLEANUPS.map((p) => p.name), optimize: OPTIMIZE };
  for (const r of ORDER) {
    const list = lists[r.in];
    const a = list.indexOf(r.before);
    const b = list.lastIndexOf(r.after);
    assert.ok(a >= 0, `${r.before} is not in ${r.in}: update ORDER`);
    assert.ok(b >= 0, `${r.after} is not in ${r.in}: update ORDER`);
    assert.ok(a < b, `${r.before} must run before ${r.after} (${r.in}): ${r.why}`);
  }
});

test("each clean-up pass runs once per round", () => {
  const names = CLEANUPS.map((p) => p.name);
  assert.deepEqual(names, [...new Set(names)]);
});

// dist/test/unit/compiler/ → src/compiler
const COMPILER = fileURLToPath(new URL("../../../../src/compiler", import.meta.url));
/** Stages in pipeline order; a file's stage is the first entry its path starts with. */
const STAGES: readonly (readonly string[])[] = [
  ["frontend/"],
  ["module/"],
  ["lower/"],
  ["opt/", "pipeline.ts"],
  ["backend/regalloc.ts"],
  ["backend/isel.ts"],
  ["backend/emit.ts"],
];
/** Shared by every stage. */
const SHARED = ["ir/", "errors.ts", "limits.ts"];
const stageOf = (f: string): number => STAGES.findIndex((s) => s.some((p) => f.startsWith(p)));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("compiler stages import only earlier stages and the shared IR", () => {
  const bad: string[] = [];
  let seen = 0;
  for (const file of files(COMPILER)) {
    const from = relative(COMPILER, file).split(sep).join("/");
    const s = stageOf(from);
    if (s < 0) continue; // index.ts runs them all; the shared files are checked below
    for (const { fileName } of ts.preProcessFile(readFileSync(file, "utf8"), true, true)
      .importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const to = relative(COMPILER, resolve(dirname(file), fileName).replace(/\.js$/, ".ts"))
        .split(sep)
        .join("/");
      seen++;
      if (to.startsWith("..") || SHARED.some((p) => to.startsWith(p))) continue;
      if (stageOf(to) > s || stageOf(to) < 0) bad.push(`${from} → ${to}`);
      // the back end takes target limits from limits.ts, not from the front end
      else if (from.startsWith("backend/") && to.startsWith("lower/")) bad.push(`${from} → ${to}`);
    }
  }
  for (const file of files(join(COMPILER, "ir")))
    for (const { fileName } of ts.preProcessFile(readFileSync(file, "utf8"), true, true)
      .importedFiles)
      if (fileName.startsWith(".."))
        bad.push(`ir/${relative(join(COMPILER, "ir"), file)} → ${fileName}`);
  assert.ok(seen > 50, "the scan found the compiler's imports");
  assert.deepEqual(
    bad,
    [],
    "a stage reaches into a later one: move the shared part to ir/ or limits.ts",
  );
});
