// Where the snapshot maker finds the files the build bundle was made from (inputPath() in
// src/accel/snapshot.ts): tsbpf's own below the package, a dependency's where Node resolves it
// from the package — inside it (a checkout, a global install) or hoisted into a parent's
// node_modules (a project install). The bundle manifest lists them as in a checkout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inputPath, BUNDLE_MANIFEST } from "../../../src/accel/snapshot.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));

function pkg(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), "{}");
  return dir;
}

test("a dependency's file is found where Node resolves the dependency", (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-inputs-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const project = join(tmp, "proj");
  const tsbpf = pkg(join(project, "node_modules/tsbpf"));
  const ts = "node_modules/typescript/lib/typescript.js";

  // Hoisted into the project (npm's default for a project install).
  pkg(join(project, "node_modules/typescript"));
  assert.equal(inputPath(ts, tsbpf), join(project, ts));
  assert.equal(inputPath(ts, `${tsbpf}/`), join(project, ts));
  // Scoped names and tsbpf's own files.
  pkg(join(project, "node_modules/@scope/dep"));
  assert.equal(
    inputPath("node_modules/@scope/dep/x.js", tsbpf),
    join(project, "node_modules/@scope/dep/x.js"),
  );
  assert.equal(inputPath("dist/src/cli/main.js", tsbpf), join(tsbpf, "dist/src/cli/main.js"));
  // A copy inside the package wins, as it does for Node (a version conflict, a global install).
  pkg(join(tsbpf, "node_modules/typescript"));
  assert.equal(inputPath(ts, tsbpf), join(tsbpf, ts));
  // Nowhere: the path below the package, which the maker reports as missing.
  assert.equal(
    inputPath("node_modules/nothing/a.js", tsbpf),
    join(tsbpf, "node_modules/nothing/a.js"),
  );
});

test("a directory named node_modules is not searched for another node_modules", (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-inputs-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const tsbpf = pkg(join(tmp, "node_modules/tsbpf"));
  pkg(join(tmp, "node_modules/node_modules/dep"));
  assert.equal(inputPath("node_modules/dep/x.js", tsbpf), join(tsbpf, "node_modules/dep/x.js"));
});

test("every input of this checkout's bundle is tsbpf's or a direct dependency's, and resolves", () => {
  const manifest = JSON.parse(readFileSync(join(root, BUNDLE_MANIFEST), "utf8")) as {
    inputs: { path: string }[];
  };
  assert.ok(manifest.inputs.some((i) => i.path === "node_modules/typescript/lib/typescript.js"));
  for (const { path } of manifest.inputs) {
    assert.match(path, /^(dist\/|node_modules\/(@[^/]+\/)?[^/]+\/(?!.*node_modules\/))/);
    assert.equal(inputPath(path), join(root, path));
  }
});
