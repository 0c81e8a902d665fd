// The `tsbpf build` startup snapshot: a V8 heap with TypeScript and the compiler loaded, the
// probe lib and tsbpf's declarations parsed and bound, and the build functions compiled
// (snapshot-entry.ts). bin.ts runs a build as `node --snapshot-blob BLOB bin.js build …` when
// findSnapshot() finds one for this Node and these exact files, which skips loading and
// compiling TypeScript and parsing the declarations in every build.
//
// The blob lives in the cache directory (cache-dir.ts), one per package directory and Node
// version, with a manifest listing the size and mtime of every file it was made from (the
// bundle and the modules bundled into it). It is made by `npm run build` and after
// `npm install` (snapshot-make.ts), and in the background by the first build that finds none.
// Anything missing or stale means the ordinary path: slower, never different.
import { createHash } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cacheDir,
  createPrivate,
  ensureCacheDir,
  untrustedDir,
  untrustedEntry,
  writePrivate,
} from "./cache-dir.js";
import { pruneCache } from "./cache-prune.js";

/** The bundled snapshot entry and its manifest, relative to the package root. */
export const BUNDLE_FILE = "dist/snapshot/tsbpf-build.cjs";
export const BUNDLE_MANIFEST = "dist/snapshot/tsbpf-build.json";
/**
 * The launch record that bin/tsbpf (a sh script) reads to start a build from the snapshot
 * without a first Node process: written whenever a snapshot is made or a build ran from it,
 * removed when there is none. Its checks are shell builtins: everything it names must exist and
 * be no newer than the record (the Node binary and the files the snapshot was made from).
 */
export const LAUNCH_FILE = "dist/snapshot/tsbpf-build.launch";

/**
 * V8 flags of both the process that makes the snapshot and the ones started from it (V8
 * refuses a snapshot made under other flags). Without rehashing, the snapshot's tables keep
 * the hash seed they were built with instead of being rehashed for a new random one: a third
 * less deserialization time. The random seed guards servers against hash flooding by their
 * input; a build reads only the user's own probe sources.
 */
export const SNAPSHOT_FLAGS: readonly string[] = ["--no-rehash-snapshot"];

/**
 * What scripts/bundle-snapshot.ts wrote the bundle from: paths relative to the package, where
 * `node_modules/<name>/…` stands for a file of dependency <name> wherever Node finds it
 * (inputPath()).
 */
export interface BundleManifest {
  bundle: { path: string; sha256: string };
  inputs: { path: string; sha256: string }[];
}

/** A file as it was when the snapshot was made. */
interface FileStamp {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Written next to the blob: what it was made from, or why it could not be made. */
interface SnapshotManifest {
  node: string;
  arch: string;
  flags: readonly string[];
  blobSize: number;
  files: FileStamp[];
  /** set when making the snapshot failed for these files (not retried until one changes) */
  error?: string;
}

export type SnapshotStatus =
  | { ok: true; blob: string; /** the files it was made from */ files: string[] }
  | { ok: false; reason: string; /** worth making one now */ stale: boolean };

/** The package root: this file is <root>/dist/src/accel/snapshot.js. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Where a bundle input is now. A dependency's file (`node_modules/<name>/rest`, as the bundle
 * was made in a checkout) is looked up the way Node resolves `<name>` from the package: in
 * <root>/node_modules, then in each parent directory's node_modules. An installed package
 * has its dependencies hoisted into the project's node_modules (or a global prefix's), not
 * below itself.
 */
export function inputPath(rel: string, root = PACKAGE_ROOT): string {
  const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\/(.+)$/.exec(rel);
  if (!m) return join(root, rel);
  const [, name, rest] = m as unknown as [string, string, string];
  for (let dir = root.replace(/\/+$/, "") || "/"; ; dir = dirname(dir)) {
    // Node never looks in node_modules/node_modules
    const pkg = join(dir, "node_modules", name);
    if (basename(dir) !== "node_modules" && existsSync(join(pkg, "package.json")))
      return join(pkg, rest);
    if (dirname(dir) === dir) return join(root, rel);
  }
}

function paths(dir = cacheDir()) {
  const id = createHash("sha256").update(PACKAGE_ROOT).digest("hex").slice(0, 16);
  const base = join(dir, `build-${id}-node${process.version}-${process.arch}`);
  return { blob: `${base}.blob`, manifest: `${base}.json`, lock: `${base}.lock` };
}

/**
 * The build server's socket (server.ts) for a snapshot blob: next to it, so each package
 * directory and Node version has its own, and bin/tsbpf finds it from the launch record.
 */
export function serverSocketFor(blob: string): string {
  return blob.replace(/\.blob$/, "") + ".sock";
}

function stamp(path: string): FileStamp {
  const s = statSync(path);
  return { path, size: s.size, mtimeMs: s.mtimeMs };
}

/** The first file that differs from its stamp, or undefined. */
function changedFile(files: FileStamp[]): string | undefined {
  for (const f of files) {
    try {
      const s = statSync(f.path);
      if (s.size !== f.size || s.mtimeMs !== f.mtimeMs) return f.path;
    } catch {
      return f.path;
    }
  }
  return undefined;
}

/**
 * The cache's trust checks for a snapshot (cache-dir.ts): a directory that is not the user's
 * is never used nor written (not stale); an untrusted manifest or blob in the user's own
 * directory is made again (stale).
 */
function untrustedCacheFiles(p: ReturnType<typeof paths>): SnapshotStatus | undefined {
  const why = untrustedDir(dirname(p.manifest));
  if (why !== undefined) {
    if (/ does not exist$|ENOENT/.test(why))
      return {
        ok: false,
        reason: `no build snapshot for Node ${process.version} yet`,
        stale: true,
      };
    return { ok: false, reason: `the cache is not yours alone: ${why}`, stale: false };
  }
  for (const f of [p.manifest, p.blob]) {
    const bad = untrustedEntry(f);
    if (bad !== undefined && !bad.endsWith(" does not exist"))
      return { ok: false, reason: `not used: ${bad}`, stale: true };
  }
  return undefined;
}

/** A usable snapshot for this package and Node, or why there is none (a few stat calls). */
export function findSnapshot(dir?: string): SnapshotStatus {
  const p = paths(dir);
  const distrust = untrustedCacheFiles(p);
  if (distrust) return distrust;
  let m: SnapshotManifest;
  try {
    m = JSON.parse(readFileSync(p.manifest, "utf8")) as SnapshotManifest;
  } catch {
    return { ok: false, reason: `no build snapshot for Node ${process.version} yet`, stale: true };
  }
  if (m.flags?.join(" ") !== SNAPSHOT_FLAGS.join(" "))
    return { ok: false, reason: "the build snapshot was made with other V8 flags", stale: true };
  const changed = changedFile(m.files);
  if (changed !== undefined)
    return { ok: false, reason: `the build snapshot is older than ${changed}`, stale: true };
  if (m.error !== undefined) return { ok: false, reason: m.error, stale: false };
  try {
    if (statSync(p.blob).size !== m.blobSize) throw new Error("size");
  } catch {
    return { ok: false, reason: `${p.blob} is missing or incomplete`, stale: true };
  }
  return { ok: true, blob: p.blob, files: m.files.map((f) => f.path) };
}

/** Removes this package's snapshot (one Node could not load); the next build makes another. */
export function discardSnapshot(dir?: string): void {
  const p = paths(dir);
  forgetLaunch();
  rmSync(p.manifest, { force: true });
  rmSync(p.blob, { force: true });
}

/**
 * Writes the launch record for a snapshot that is valid now (see LAUNCH_FILE): one line each
 * for a tag, the Node binary, the cache directory, the blob and the V8 flags, then the files.
 * Never throws: an installed package may be read-only, and bin/tsbpf then runs bin.js.
 */
export function recordLaunch(blob: string, files: readonly string[], dir = cacheDir()): void {
  const lines = ["tsbpf-launch 1", process.execPath, dir, blob, SNAPSHOT_FLAGS.join(" ")];
  // A newline in a path would split its line; such a snapshot is just not launched directly.
  if ([...lines, ...files].some((l) => l.includes("\n"))) return forgetLaunch();
  try {
    writeAtomic(join(PACKAGE_ROOT, LAUNCH_FILE), [...lines, ...files, ""].join("\n"));
  } catch {
    // read-only package: every build goes through bin.js, as without the launcher
  }
}

/** Removes the launch record, so that bin/tsbpf runs every build through bin.js. */
export function forgetLaunch(): void {
  try {
    rmSync(join(PACKAGE_ROOT, LAUNCH_FILE), { force: true });
  } catch {
    // read-only package: it cannot have written one either
  }
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/**
 * Makes the snapshot (seconds): checks that the bundle is as new as every module in it, runs
 * `node --build-snapshot` on it, and records the files it was made from. A failure is
 * recorded too, so builds do not retry it until a file changes. Throws only when the cache
 * directory cannot be written.
 */
export function makeSnapshot(dir?: string): SnapshotStatus {
  const p = paths(dir);
  const manifestFile = join(PACKAGE_ROOT, BUNDLE_MANIFEST);
  const fail = (reason: string, files: FileStamp[]): SnapshotStatus => {
    const m: SnapshotManifest = {
      node: process.version,
      arch: process.arch,
      flags: SNAPSHOT_FLAGS,
      blobSize: 0,
      files,
      error: reason,
    };
    forgetLaunch();
    writePrivate(p.manifest, JSON.stringify(m));
    return { ok: false, reason, stale: false };
  };
  const distrust = ensureCacheDir(dirname(p.manifest));
  if (distrust !== undefined)
    return { ok: false, reason: `the cache is not yours alone: ${distrust}`, stale: false };
  let bundle: BundleManifest;
  try {
    bundle = JSON.parse(readFileSync(manifestFile, "utf8")) as BundleManifest;
  } catch {
    return {
      ok: false,
      reason: `no snapshot bundle (${BUNDLE_MANIFEST}): run npm run build`,
      stale: false,
    };
  }
  const inputs = [bundle.bundle, ...bundle.inputs].map((f) => ({ ...f, at: inputPath(f.path) }));
  let files: FileStamp[];
  try {
    files = [manifestFile, ...inputs.map((f) => f.at)].map(stamp);
  } catch (e) {
    const missing = inputs.find((f) => !existsSync(f.at));
    return {
      ok: false,
      reason: missing
        ? `${missing.at}, bundled into the build snapshot, is missing (reinstall tsbpf)`
        : `cannot read the snapshot's inputs: ${(e as Error).message}`,
      stale: false,
    };
  }
  for (const f of inputs)
    if (sha256(f.at) !== f.sha256)
      return fail(
        f.path.startsWith("node_modules/")
          ? `${f.at} is not the file bundled into the build snapshot (another version of a ` +
              "dependency than tsbpf was built with: reinstall tsbpf, or `npm run build` in a checkout)"
          : `the snapshot bundle is older than ${f.path}: run npm run build`,
        files,
      );

  // Node writes the blob by name: made here first, so it is a new private file, not a link.
  const tmp = `${p.blob}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  createPrivate(tmp);
  const r = spawnSync(
    process.execPath,
    [
      ...SNAPSHOT_FLAGS,
      "--snapshot-blob",
      tmp,
      "--build-snapshot",
      join(PACKAGE_ROOT, bundle.bundle.path),
    ],
    {
      cwd: PACKAGE_ROOT,
      // bin.ts runs the snapshot only without NODE_OPTIONS; V8 flags must match.
      env: { ...process.env, NODE_OPTIONS: "" },
      encoding: "utf8",
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 300_000,
    },
  );
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = r.error?.message ?? r.stderr.trim().split("\n").slice(-3).join(" ");
    return fail(`making the build snapshot failed: ${why}`, files);
  }
  renameSync(tmp, p.blob);
  const m: SnapshotManifest = {
    node: process.version,
    arch: process.arch,
    flags: SNAPSHOT_FLAGS,
    blobSize: statSync(p.blob).size,
    files,
  };
  writePrivate(p.manifest, JSON.stringify(m));
  const made = files.map((f) => f.path);
  recordLaunch(p.blob, made, dir);
  // snapshots of deleted checkouts, old code caches: 18 MB a snapshot otherwise stays forever
  pruneCache(dirname(p.manifest));
  return { ok: true, blob: p.blob, files: made };
}

/** A lock older than this belongs to a snapshot maker that died. */
const LOCK_TTL_MS = 10 * 60_000;

/**
 * Starts makeSnapshot() in a detached process unless one is already running (a lock file in
 * the cache directory), so the next build is fast. Never throws.
 */
export function makeSnapshotInBackground(): void {
  try {
    const p = paths();
    if (ensureCacheDir(dirname(p.lock)) !== undefined) return;
    try {
      if (Date.now() - statSync(p.lock).mtimeMs < LOCK_TTL_MS) return;
      rmSync(p.lock, { force: true });
    } catch {
      // no lock
    }
    createPrivate(p.lock);
    const maker = fileURLToPath(new URL("./snapshot-make.js", import.meta.url));
    spawn(process.execPath, [maker, "--lock", p.lock], {
      detached: true,
      stdio: "ignore",
    }).unref();
  } catch {
    // another build took the lock, or the cache cannot be written: no snapshot, no harm
  }
}
