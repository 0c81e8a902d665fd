// Keeps the cache directory (cache-dir.ts) from growing with every checkout and reinstall:
// a build snapshot (18 MB) is made per package directory, and a TypeScript code cache per
// installed typescript.js, so deleted checkouts and old installs leave files nobody reads.
// Run after making a snapshot (snapshot.ts). Never throws: the cache is only for speed.
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/** TypeScript code caches kept (newest first): one per installed TypeScript in use. */
export const KEEP_CODE_CACHES = 8;

/** Whether a process with this pid exists (EPERM: it does, another user's). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The pid a build server wrote next to its socket (`<socket>.pid`, server.ts), if any. */
export function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the snapshots whose package directory is gone (the first file a snapshot's manifest
 * lists is in its package) with their server logs, and the sockets of their servers unless
 * one still runs; and all but the KEEP_CODE_CACHES newest TypeScript code caches. Returns the
 * names removed.
 */
export function pruneCache(dir: string): string[] {
  const removed: string[] = [];
  const remove = (name: string) => {
    try {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // another process's, or already gone
    }
  };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  const present = new Set(names);
  for (const name of names) {
    const m = /^(build-[0-9a-f]+-node[^/]+)\.json$/.exec(name);
    if (!m) continue;
    let first: string | undefined;
    try {
      const manifest = JSON.parse(readFileSync(join(dir, name), "utf8")) as {
        files?: { path?: unknown }[];
      };
      const p = manifest.files?.[0]?.path;
      first = typeof p === "string" ? p : undefined;
    } catch {
      continue; // being written, or not ours: leave it
    }
    if (first === undefined || exists(first)) continue;
    const base = m[1]!;
    const pid = readPid(join(dir, `${base}.sock.pid`));
    const serving = pid !== undefined && alive(pid);
    for (const suffix of [".blob", ".json", ".lock", ".sock.log"])
      if (present.has(base + suffix)) remove(base + suffix);
    if (!serving)
      for (const suffix of [".sock", ".sock.pid"])
        if (present.has(base + suffix)) remove(base + suffix);
  }
  const caches = names
    .filter((n) => /^typescript-.*\.v8cache$/.test(n))
    .map((n) => ({ n, t: mtime(join(dir, n)) }))
    .sort((a, b) => b.t - a.t);
  for (const { n } of caches.slice(KEEP_CODE_CACHES)) remove(n);
  return removed;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
