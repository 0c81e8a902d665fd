// Turning what a user types for a uprobe target ("libc", "libc.so.6", "bash", "./app") into
// the path the kernel opens. With a pid, the process's own mappings win: in a container or
// with LD_LIBRARY_PATH its libc may not be the one /etc/ld.so.cache names.

import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { basename, delimiter, isAbsolute, join, resolve } from "node:path";
import { AttachError } from "./errors.js";
import {
  LD_FLAG_ARCH_MASK,
  LD_FLAG_NATIVE_ARCH,
  LD_FLAG_TYPE_MASK,
  LD_FLAG_ELF_LIBC6,
  parseLdCache,
  type LdCacheEntry,
} from "./ld-cache.js";

const MULTIARCH: Record<string, string> = {
  x64: "x86_64-linux-gnu",
  arm64: "aarch64-linux-gnu",
  riscv64: "riscv64-linux-gnu",
  s390x: "s390x-linux-gnu",
  ppc64: "powerpc64le-linux-gnu",
};

/** Library directories searched after /etc/ld.so.cache, in the dynamic linker's order. */
export function standardLibraryDirs(): string[] {
  const triplet = MULTIARCH[process.arch];
  const dirs = (process.env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d !== "");
  for (const d of ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]) {
    if (triplet) dirs.push(`${d.replace(/64$/, "")}/${triplet}`);
    dirs.push(d);
  }
  return [...new Set(dirs)];
}

/** Whether a mapped or cached file name is the library a user meant by `name`. */
export function libraryMatches(fileName: string, name: string): boolean {
  if (fileName === name) return true;
  // "libc" names libc.so.6 and old-style libc-2.31.so; "libc.so" names libc.so.6.
  if (fileName === name + ".so" || fileName.startsWith(name + ".so.")) return true;
  if (name.includes(".so") && fileName.startsWith(name + ".")) return true;
  return fileName.startsWith(name + "-") && /\.so(\.|$)/.test(fileName);
}

export interface MappedFile {
  path: string;
  /** true when the mapping is executable (r-xp) */
  exec: boolean;
}

/** The file-backed mappings of /proc/<pid>/maps text, in order, without duplicates. */
export function parseProcMaps(text: string): MappedFile[] {
  const out: MappedFile[] = [];
  const seen = new Map<string, MappedFile>();
  for (const line of text.split("\n")) {
    // address perms offset dev inode pathname — the path may contain spaces.
    const m = /^\S+\s+(\S+)\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
    if (!m) continue;
    const path = m[2]!.replace(/ \(deleted\)$/, "");
    const exec = m[1]!.includes("x");
    const prev = seen.get(path);
    if (prev) prev.exec ||= exec;
    else {
      const f = { path, exec };
      seen.set(path, f);
      out.push(f);
    }
  }
  return out;
}

let ldCache: LdCacheEntry[] | undefined;

function ldCacheEntries(): LdCacheEntry[] {
  if (ldCache) return ldCache;
  try {
    ldCache = parseLdCache(readFileSync("/etc/ld.so.cache"));
  } catch {
    ldCache = []; // no cache (musl, minimal images) or an unreadable one: fall back to dirs
  }
  return ldCache;
}

function nativeLibrary(e: LdCacheEntry): boolean {
  if ((e.flags & LD_FLAG_TYPE_MASK) !== LD_FLAG_ELF_LIBC6) return false;
  return LD_FLAG_NATIVE_ARCH === undefined || (e.flags & LD_FLAG_ARCH_MASK) === LD_FLAG_NATIVE_ARCH;
}

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

const isExecutable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return isFile(p);
  } catch {
    return false;
  }
};

/**
 * Resolve a uprobe target to a path the kernel can open:
 * - a path with "/" is used as given (made absolute; inside /proc/<pid>/root when `pid` is set
 *   and the path exists only in that process's mount namespace);
 * - with `pid`, a library the process maps whose name matches ("libc" → its libc.so.6);
 * - a library name via /etc/ld.so.cache, then LD_LIBRARY_PATH and the standard directories;
 * - otherwise an executable on PATH.
 */
export function resolveBinaryPath(name: string, opts: { pid?: number } = {}): string {
  if (name === "") throw new AttachError("uprobe target is empty: pass a binary or library");
  const { pid } = opts;
  if (name.includes("/")) {
    const abs = resolve(name);
    if (isFile(abs)) return abs;
    if (pid !== undefined && isAbsolute(name) && isFile(`/proc/${pid}/root${name}`))
      return `/proc/${pid}/root${name}`;
    throw new AttachError(`uprobe target ${abs} does not exist or is not a regular file`);
  }
  const looked: string[] = [];
  if (pid !== undefined) {
    let maps: string;
    try {
      maps = readFileSync(`/proc/${pid}/maps`, "utf8");
    } catch (e) {
      throw new AttachError(`cannot read /proc/${pid}/maps: is process ${pid} running?`, {
        cause: e,
      });
    }
    const hit = parseProcMaps(maps).find((f) => f.exec && libraryMatches(basename(f.path), name));
    if (hit) return existsSync(hit.path) ? hit.path : `/proc/${pid}/root${hit.path}`;
    looked.push(`/proc/${pid}/maps`);
  }
  const libraryLike = name.startsWith("lib") || name.includes(".so");
  if (libraryLike) {
    const cached = ldCacheEntries().filter((e) => nativeLibrary(e));
    const hit =
      cached.find((e) => e.name === name && isFile(e.path)) ??
      cached.find((e) => libraryMatches(e.name, name) && isFile(e.path));
    if (hit) return hit.path;
    looked.push("/etc/ld.so.cache");
    for (const dir of standardLibraryDirs()) {
      const exact = join(dir, name);
      if (isFile(exact)) return exact;
      for (const suffix of [".so", ".so.6", ".so.1", ".so.0"]) {
        const p = join(dir, name + suffix);
        if (isFile(p)) return p;
      }
    }
    looked.push("library directories");
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  looked.push("PATH");
  throw new AttachError(
    `cannot find binary or library "${name}" (looked in ${looked.join(", ")}); pass its absolute path`,
  );
}
