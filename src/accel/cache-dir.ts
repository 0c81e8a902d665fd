// Where the `tsbpf` binary keeps what makes later builds faster (the TypeScript code cache, the
// build snapshot and its server's socket): $XDG_CACHE_HOME/tsbpf, else ~/.cache/tsbpf. Nothing
// in it is needed for a build to succeed.
//
// Trust: what is in the cache is run (the snapshot blob is a heap Node starts from, the server
// behind the socket receives the working directory, arguments and environment of every build),
// so it is used only when it is the user's own. A cache directory is trusted when it is owned
// by the effective uid and open to no one else (0700; an own directory that is looser, such as
// one an older tsbpf made 0755, is tightened), and every directory above it (as written and
// as resolved) is owned by the user or root and writable by no one else unless sticky (/tmp):
// then no other user can replace anything in it between a check and its use. A file in it is
// trusted when it is the user's and writable by no one else. native/tsbpf-client.c applies the
// same rules for bin/tsbpf. Anything untrusted is left alone and the build takes the ordinary
// path (TSBPF_DEBUG says why): `sudo -E tsbpf build` with HOME in a user's home builds without
// that user's snapshot and server.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
  type Stats,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../cli/usage-error.js";

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), ".cache") : tmpdir());
  return join(base, "tsbpf");
}

const euid = (): number => process.geteuid?.() ?? 0;

/** What a cache entry must be. */
export type EntryKind = "file" | "socket";

function describeOwner(s: Stats): string | undefined {
  if (s.uid !== euid()) return `is owned by uid ${s.uid}, not by you (uid ${euid()})`;
  if (s.mode & 0o022) return `is writable by others (mode ${(s.mode & 0o7777).toString(8)})`;
  return undefined;
}

/**
 * Why an entry of a trusted cache directory must not be used (a symbolic link, another type,
 * another owner, writable by others), or undefined when it may. Missing: "does not exist".
 */
export function untrustedEntry(path: string, kind: EntryKind = "file"): string | undefined {
  let s: Stats;
  try {
    s = lstatSync(path);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT"
      ? `${path} does not exist`
      : `${path}: ${(e as Error).message}`;
  }
  if (s.isSymbolicLink()) return `${path} is a symbolic link`;
  if (kind === "file" ? !s.isFile() : !s.isSocket()) return `${path} is not a ${kind}`;
  const why = describeOwner(s);
  return why && `${path} ${why}`;
}

/** Every directory from / down to dir, as written (dir absolute). */
function chain(dir: string): string[] {
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.unshift(d);
    if (dirname(d) === d) return out;
  }
}

/** Why a directory above the cache must not be trusted, or undefined. Symlinks are followed by
 * checking their containing directory (as written) and their target (as resolved). */
function untrustedAbove(d: string, s: Stats): string | undefined {
  if (s.isSymbolicLink()) return undefined;
  if (!s.isDirectory()) return `${d} is not a directory`;
  if (s.uid !== euid() && s.uid !== 0)
    return `${d} (above the cache) is owned by uid ${s.uid}, neither you nor root`;
  if (s.mode & 0o022 && !(s.mode & 0o1000))
    return `${d} (above the cache) is writable by others (mode ${(s.mode & 0o7777).toString(8)})`;
  return undefined;
}

function untrustedPath(dirs: string[]): string | undefined {
  for (const d of dirs) {
    let s: Stats;
    try {
      s = lstatSync(d);
    } catch (e) {
      return `${d}: ${(e as Error).message}`;
    }
    const why = untrustedAbove(d, s);
    if (why) return why;
  }
  return undefined;
}

/**
 * Why the cache directory must not be used (see the top of this file), or undefined when it
 * may. A few lstat calls.
 */
export function untrustedDir(dir: string): string | undefined {
  let s: Stats;
  try {
    s = lstatSync(dir);
  } catch (e) {
    return `${dir}: ${(e as Error).message}`;
  }
  if (s.isSymbolicLink()) {
    // the user's own choice of a link (~/.cache on another disk): its target is checked below
  } else if (!s.isDirectory()) return `${dir} is not a directory`;
  else if (s.uid !== euid()) return `${dir} is owned by uid ${s.uid}, not by you (uid ${euid()})`;
  else if (s.mode & 0o077)
    return `${dir} is open to others (mode ${(s.mode & 0o7777).toString(8)}, not 700)`;
  const written = chain(dir).slice(0, -1);
  const why = untrustedPath(written);
  if (why) return why;
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (e) {
    return `${dir}: ${(e as Error).message}`;
  }
  if (real === resolve(dir)) return undefined;
  const t = lstatSync(real);
  if (t.uid !== euid()) return `${real} is owned by uid ${t.uid}, not by you (uid ${euid()})`;
  if (t.mode & 0o077)
    return `${real} is open to others (mode ${(t.mode & 0o7777).toString(8)}, not 700)`;
  return untrustedPath(chain(real).slice(0, -1));
}

/**
 * Makes the cache directory (0700) when the directories above it may hold it, tightens an own
 * directory that is open to others, and returns why it must not be used (nothing is created
 * then: root with HOME in a user's home leaves no root-owned directory there), or undefined.
 */
export function ensureCacheDir(dir: string = cacheDir()): string | undefined {
  const abs = resolve(dir);
  // the nearest directory that exists: the ones above it must be safe before anything is made
  let existing = abs;
  for (;;) {
    try {
      lstatSync(existing);
      break;
    } catch {
      if (dirname(existing) === existing) break;
      existing = dirname(existing);
    }
  }
  if (existing !== abs) {
    const why = untrustedPath(chain(existing));
    if (why) return why;
    try {
      mkdirSync(abs, { recursive: true, mode: 0o700 });
    } catch (e) {
      return `cannot make ${abs}: ${(e as Error).message}`;
    }
  }
  try {
    const s = lstatSync(abs);
    if (s.isDirectory() && s.uid === euid() && s.mode & 0o077) chmodSync(abs, 0o700);
  } catch {
    // reported by untrustedDir
  }
  return untrustedDir(abs);
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Creates a new file only the user may read or write (0600, whatever the umask): O_EXCL and
 * O_NOFOLLOW, so an existing file or a symbolic link planted at the name makes this throw
 * (EEXIST/ELOOP) instead of writing through it.
 */
export function createPrivate(path: string, data: string | Uint8Array = ""): void {
  const fd = openSync(path, CREATE, 0o600);
  try {
    fchmodSync(fd, 0o600);
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
  } finally {
    closeSync(fd);
  }
}

/** Replaces path with a new private file: written under a fresh name, then renamed over it
 * (rename replaces a symbolic link itself, never its target). */
export function writePrivate(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  try {
    createPrivate(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Opens a private log for appending: created 0600 if missing, never through a link, and only
 * when it is the user's own (else throws). */
export function openPrivateLog(path: string): number {
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  const why = describeOwner(fstatSync(fd));
  if (why) {
    closeSync(fd);
    throw new UsageError(`${path} ${why}`);
  }
  return fd;
}
