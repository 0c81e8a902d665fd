// The `tsbpf build` startup snapshot (src/accel/snapshot.ts): a build run from it prints, exits
// and writes exactly what a build without it does, and a stale or damaged snapshot costs speed
// only (the build runs in the first process and a new snapshot is made in the background).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileProbe } from "../../../src/compiler/index.js";
import { WARMUP_ROOT, warmupProbes } from "../../../src/accel/snapshot-warmup.js";
import { launch, type Run } from "../../support/cli-run.js";
import {
  LAUNCH_FILE,
  findSnapshot,
  forgetLaunch,
  recordLaunch,
} from "../../../src/accel/snapshot.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const BIN = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));
const MAKER = fileURLToPath(new URL("../../../src/accel/snapshot-make.js", import.meta.url));
const BUNDLER = fileURLToPath(new URL("../../../scripts/bundle-snapshot.js", import.meta.url));
const PROBE = join(root, "examples/trace_http/probe.ts");

test("the warm-up probes compile, except the one that exercises type errors", () => {
  for (const p of warmupProbes()) {
    const compile = () => compileProbe(`${WARMUP_ROOT}/${p.entry}`, { sources: p.sources });
    if (p.compiles) assert.ok(compile().programs.length > 0, p.entry);
    else assert.throws(compile, /TS2322/, p.entry);
  }
});

function tsbpf(cacheHome: string, args: string[], env: Record<string, string> = {}): Run {
  return launch(process.execPath, cacheHome, [BIN, ...args], env);
}

/** Waits (bounded) until the background snapshot maker has released its lock. */
async function settled(cache: string): Promise<void> {
  const dir = join(cache, "tsbpf");
  for (let i = 0; i < 600; i++) {
    if (!readdirSync(dir).some((f) => f.endsWith(".lock"))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail("the background snapshot maker did not finish in 60 s");
}

test("builds from the snapshot equal builds without it; stale or damaged ones are remade", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-snapshot-"));
  const cache = join(dir, "cache");
  t.after(async () => {
    if (existsSync(join(cache, "tsbpf"))) await settled(cache);
    rmSync(dir, { recursive: true, force: true });
  });
  const make = () =>
    spawnSync(process.execPath, [MAKER], {
      encoding: "utf8",
      env: { ...process.env, XDG_CACHE_HOME: cache },
    });
  let made = make();
  if (/bundle is older than|no snapshot bundle/.test(made.stdout)) {
    // `npm run build` makes the bundle; a plain tsc leaves it older than dist/src.
    const bundled = spawnSync(process.execPath, [BUNDLER], { encoding: "utf8", cwd: root });
    assert.equal(bundled.status, 0, bundled.stderr);
    rmSync(join(cache, "tsbpf"), { recursive: true, force: true });
    made = make();
  }
  assert.match(made.stdout, /SNAPSHOT .*\.blob/, made.stdout + made.stderr);
  const blob = readdirSync(join(cache, "tsbpf")).find((f) => f.endsWith(".blob"))!;
  const blobPath = join(cache, "tsbpf", blob);
  const manifestPath = blobPath.replace(/\.blob$/, ".json");

  const badProbe = join(dir, "bad.ts");
  writeFileSync(
    badProbe,
    'import { program, xdp, XdpAction } from "tsbpf/probe";\nprogram({ license: 1 });\n' +
      "export const p = xdp(() => XdpAction.Nope);\n",
  );
  const cases: string[][] = [
    ["build", PROBE, "-o", join(dir, "out")],
    ["build", badProbe, "-o", join(dir, "out")],
    ["build", join(dir, "missing.ts")],
    ["build", "--bogus"],
  ];
  const elf = () => readFileSync(join(dir, "out/trace_http/trace_http.elf"));
  for (const args of cases) {
    const plain = tsbpf(cache, args, { TSBPF_SNAPSHOT: "0" });
    const plainElf = args[1] === PROBE ? elf() : undefined;
    const snap = tsbpf(cache, args);
    assert.ok(
      snap.debug.some((l) => l.startsWith("tsbpf: snapshot loaded")),
      `${args.join(" ")}: the snapshot was not used:\n${snap.debug.join("\n")}`,
    );
    assert.deepEqual(
      { status: snap.status, stdout: snap.stdout, stderr: snap.stderr },
      { status: plain.status, stdout: plain.stdout, stderr: plain.stderr },
      args.join(" "),
    );
    if (plainElf) assert.deepEqual(elf(), plainElf);
  }
  const good = tsbpf(cache, cases[0]!);
  assert.equal(good.status, 0);
  const goodElf = elf();

  // A file the snapshot was made from changed: built without it, remade in the background.
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    files: { mtimeMs: number }[];
  };
  manifest.files[0]!.mtimeMs -= 1000;
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const stale = tsbpf(cache, cases[0]!);
  assert.equal(stale.status, 0, stale.stderr);
  assert.ok(stale.debug.some((l) => /not used: the build snapshot is older than/.test(l)));
  assert.deepEqual(elf(), goodElf);
  await settled(cache);
  assert.ok(tsbpf(cache, cases[0]!).debug.some((l) => l.startsWith("tsbpf: snapshot loaded")));

  // Made under other V8 flags (an older tsbpf): Node would refuse it, so it is remade.
  const flags = JSON.parse(readFileSync(manifestPath, "utf8")) as { flags: string[] };
  flags.flags = [];
  writeFileSync(manifestPath, JSON.stringify(flags));
  const reflagged = tsbpf(cache, cases[0]!);
  assert.equal(reflagged.status, 0, reflagged.stderr);
  assert.ok(reflagged.debug.some((l) => /not used: .* made with other V8 flags/.test(l)));
  await settled(cache);
  assert.ok(tsbpf(cache, cases[0]!).debug.some((l) => l.startsWith("tsbpf: snapshot loaded")));

  // A damaged blob of the right size: Node aborts on it; the build still succeeds, the blob
  // is thrown away and remade.
  writeFileSync(blobPath, Buffer.alloc(statSync(blobPath).size, 0x5a));
  const damaged = tsbpf(cache, cases[0]!);
  assert.equal(damaged.status, 0, damaged.stderr);
  assert.ok(
    damaged.debug.some((l) => /not used: Node exited with/.test(l)),
    damaged.debug.join("\n"),
  );
  assert.deepEqual(elf(), goodElf);
  await settled(cache);
  assert.ok(tsbpf(cache, cases[0]!).debug.some((l) => l.startsWith("tsbpf: snapshot loaded")));

  // Node options (V8 flags) would make Node refuse the snapshot: not even tried.
  const flagged = tsbpf(cache, cases[0]!, { NODE_OPTIONS: "--max-old-space-size=1024" });
  assert.equal(flagged.status, 0, flagged.stderr);
  assert.ok(flagged.debug.some((l) => /not used: Node options --max-old-space-size/.test(l)));
});

const LAUNCHER = join(root, "bin/tsbpf");

test("bin/tsbpf starts builds from the snapshot itself, same results; falls back to bin.js", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-launcher-"));
  const cache = join(dir, "cache");
  const tsbpfCache = join(cache, "tsbpf");
  t.after(async () => {
    if (existsSync(tsbpfCache)) await settled(cache);
    rmSync(dir, { recursive: true, force: true });
    // bin.js rewrites the record for the user's own cache at its next build
    forgetLaunch();
  });
  const made = spawnSync(process.execPath, [MAKER], {
    encoding: "utf8",
    env: { ...process.env, XDG_CACHE_HOME: cache },
  });
  assert.match(made.stdout, /SNAPSHOT .*\.blob/, made.stdout + made.stderr);
  const found = findSnapshot(tsbpfCache);
  assert.ok(found.ok, found.ok ? "" : found.reason);
  // Other test files' builds rewrite the record for their cache: write ours before each run.
  const record = () => recordLaunch(found.blob, found.files, tsbpfCache);
  const fast = (d: string[]) =>
    d.some((l) => l.startsWith("tsbpf: launcher: build snapshot")) &&
    d.some((l) => l.startsWith("tsbpf: snapshot loaded")) &&
    !d.some((l) => l.startsWith("tsbpf: build snapshot"));

  const badProbe = join(dir, "bad.ts");
  writeFileSync(
    badProbe,
    'import { program, xdp, XdpAction } from "tsbpf/probe";\nprogram({ license: 1 });\n' +
      "export const p = xdp(() => XdpAction.Nope);\n",
  );
  const out = join(dir, "out");
  const elfPath = join(out, "trace_http/trace_http.elf");
  const cases: { args: string[]; snapshot: boolean }[] = [
    { args: ["build", PROBE, "-o", out], snapshot: true },
    { args: ["build", badProbe, "-o", out], snapshot: true },
    { args: ["build", "--bogus"], snapshot: true },
    { args: ["inspect", elfPath], snapshot: false },
    { args: ["--version"], snapshot: false },
  ];
  for (const { args, snapshot } of cases) {
    const js = tsbpf(cache, args);
    const jsElf = args[1] === PROBE ? readFileSync(elfPath) : undefined;
    if (jsElf) rmSync(elfPath);
    record();
    const sh = launch(LAUNCHER, cache, args);
    assert.equal(fast(sh.debug), snapshot, `${args.join(" ")}:\n${sh.debug.join("\n")}`);
    assert.deepEqual(
      { status: sh.status, stdout: sh.stdout, stderr: sh.stderr },
      { status: js.status, stdout: js.stdout, stderr: js.stderr },
      args.join(" "),
    );
    if (jsElf) assert.deepEqual(readFileSync(elfPath), jsElf);
  }
  const good = cases[0]!.args;
  const goodElf = readFileSync(elfPath);

  // npm links the bin as node_modules/.bin/tsbpf -> ../tsbpf/bin/tsbpf.
  mkdirSync(join(dir, "node_modules/.bin"), { recursive: true });
  symlinkSync(root, join(dir, "node_modules/tsbpf"));
  symlinkSync("../tsbpf/bin/tsbpf", join(dir, "node_modules/.bin/tsbpf"));
  record();
  const linked = launch(join(dir, "node_modules/.bin/tsbpf"), cache, good);
  assert.equal(linked.status, 0, linked.stderr);
  assert.ok(fast(linked.debug), linked.debug.join("\n"));
  assert.deepEqual(readFileSync(elfPath), goodElf);

  // Fallbacks: the build runs through bin.js (which uses the snapshot if it is fine).
  const fallback = (why: RegExp, env: Record<string, string> = {}) => {
    const r = launch(LAUNCHER, cache, good, env);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!fast(r.debug), r.debug.join("\n"));
    assert.ok(
      r.debug.some((l) => why.test(l)),
      `${why}:\n${r.debug.join("\n")}`,
    );
    assert.deepEqual(readFileSync(elfPath), goodElf);
  };
  // a record older than a file the snapshot was made from
  record();
  const older = new Date(statSync(found.files[0]!).mtimeMs - 2000);
  utimesSync(join(root, LAUNCH_FILE), older, older);
  fallback(/launcher: snapshot older than .*tsbpf-build\.json/);
  // ... which bin.js rewrote after its build: the next one starts from the snapshot again
  assert.ok(fast(launch(LAUNCHER, cache, good).debug));
  forgetLaunch();
  fallback(/tsbpf: build snapshot /);
  // a blob Node refuses (or dies on): bin.js runs the build, with the intact real blob
  const junk = join(dir, "junk.blob");
  writeFileSync(junk, Buffer.alloc(4096, 0x5a));
  recordLaunch(junk, found.files, tsbpfCache);
  fallback(/launcher: Node refused the snapshot \(exit \d+\)/);
  record();
  fallback(/build snapshot not used: TSBPF_SNAPSHOT=0/, { TSBPF_SNAPSHOT: "0" });
  record();
  fallback(/build snapshot not used: Node options/, { NODE_OPTIONS: "--max-old-space-size=1024" });
});
