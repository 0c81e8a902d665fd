// Loads the N-API addon (native/tsbpf.c). Every syscall returns its result or -errno; the
// wrappers in src/sys turn negative results into SysError. Only src/sys imports this file
// (test/unit/architecture.test.ts): the rest of tsbpf calls typed sys/ functions, and unit
// tests replace the addon with a model of the kernel through installFakeNative().
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bug } from "../bug.js";
import { AddonError } from "./addon-error.js";

export { AddonError };

/**
 * The raw addon surface, all of it (native/tsbpf.c's init() exports exactly these). Numbers < 0
 * are -errno unless stated otherwise.
 */
export interface Native {
  bpf(cmd: number, attr: Uint8Array): number;
  /**
   * A map element command (LOOKUP/UPDATE/DELETE/GET_NEXT_KEY) with the attr built in C from
   * plain numbers: 0 or -errno. Addresses are addressOf() results that fit a double exactly.
   */
  mapElem(cmd: number, fd: number, keyAddr: number, valueAddr: number, flags: number): number;
  /**
   * Acquire-loads the headers of committed BPF ring buffer records from byte `pos` of the
   * doubly mapped data area, within `avail` bytes, into out[0..n); returns n.
   */
  ringbufScan(data: Uint8Array, pos: number, avail: number, out: Uint32Array): number;
  /**
   * The batch form of ringbufScan: for each committed record that is not discarded, its
   * payload's byte offset in `data` and its length, up to offsets' capacity; meta[0] gets the
   * bytes walked (discarded records included). Returns the record count.
   */
  ringbufCollect(
    data: Uint8Array,
    pos: number,
    avail: number,
    offsets: Uint32Array,
    lengths: Uint32Array,
    meta: Uint32Array,
  ): number;
  /** Address of the view's first byte; the caller keeps the view alive while the kernel uses it. */
  addressOf(view: ArrayBufferView): bigint;
  perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd: number, flags: number): number;
  ioctl(fd: number, request: number, arg: number | bigint): number;
  close(fd: number): number;
  /** F_DUPFD_CLOEXEC */
  dup(fd: number): number;
  pageSize(): number;
  /** A zero-copy ArrayBuffer over the mapping, or -errno. */
  mmap(
    fd: number,
    length: number,
    prot: number,
    flags: number,
    offset: number,
  ): ArrayBuffer | number;
  /** Detaches the buffer (further access sees byteLength 0) and unmaps it. */
  munmap(buffer: ArrayBuffer): number;
  /** Watches fd readiness on the libuv loop; the callback gets (status, events). */
  pollStart(
    fd: number,
    events: number,
    callback: (status: number, events: number) => void,
  ): PollHandle | number;
  pollStop(handle: PollHandle): number;
  /** Whether a waiting poll keeps the process alive (default: it does). */
  pollRef(handle: PollHandle, ref: boolean): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, sockaddr: Uint8Array): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  /** Fills buf with the option; its length, or -errno. */
  getsockopt(fd: number, level: number, name: number, buf: Uint8Array): number;
  send(fd: number, buf: Uint8Array, flags: number): number;
  recv(fd: number, buf: Uint8Array, flags: number): number;
  read(fd: number, buf: ArrayBufferView): number;
  write(fd: number, buf: ArrayBufferView): number;
  eventfd(initval: number, flags: number): number;
  mount(source: string, target: string, fstype: string, flags: number): number;
  /** Interface index, or -errno (ENODEV when there is no such interface). */
  ifNameToIndex(name: string): number;
  /** "EPERM", or null when libc does not know the number. */
  errnoName(errno: number): string | null;
  strerror(errno: number): string;
}

/** Opaque libuv poll handle. */
export type PollHandle = { readonly __brand: "tsbpf.PollHandle" };

/** uv_poll event bits. */
export const PollEvents = { READABLE: 1, WRITABLE: 2, DISCONNECT: 4, PRIORITIZED: 8 } as const;

const NOT_BUILT =
  "tsbpf native addon not found: the package ships prebuilt binaries for linux-x64 and " +
  "linux-arm64 (glibc); elsewhere `npm install` builds it, which needs python3, make and a C " +
  "compiler (npm rebuild tsbpf after installing them)";

/** The package root: this file is <root>/dist/src/sys/native.js (or <root>/src/sys/native.ts). */
function packageRoot(): string {
  for (const rel of ["../../../", "../../"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "binding.gyp"))) return dir;
  }
  return fileURLToPath(new URL("../../../", import.meta.url));
}

/** Every function of Native, checked when the addon loads. */
const NATIVE_FUNCTIONS = [
  "bpf",
  "mapElem",
  "ringbufScan",
  "ringbufCollect",
  "addressOf",
  "perfEventOpen",
  "ioctl",
  "close",
  "dup",
  "pageSize",
  "mmap",
  "munmap",
  "pollStart",
  "pollStop",
  "pollRef",
  "socket",
  "bind",
  "setsockopt",
  "getsockopt",
  "send",
  "recv",
  "read",
  "write",
  "eventfd",
  "mount",
  "ifNameToIndex",
  "errnoName",
  "strerror",
] as const satisfies readonly (keyof Native)[];
// Compile-time check that the list names every member of Native.
type Missing = Exclude<keyof Native, (typeof NATIVE_FUNCTIONS)[number]>;
const everyFunctionListed: [Missing] extends [never] ? true : Missing = true;
void everyFunctionListed;

/**
 * The names of Native functions `addon` lacks. The addon is built from this package's own
 * native/tsbpf.c (npm install, or scripts/prebuilds.sh before packing), so a gap means a stale
 * build/ directory in a checkout: loading refuses it instead of working around it per call.
 */
export function missingNativeFunctions(addon: object): string[] {
  const a = addon as Record<string, unknown>;
  return NATIVE_FUNCTIONS.filter((f) => typeof a[f] !== "function");
}

function load(): Native {
  const root = packageRoot();
  const require = createRequire(import.meta.url);
  // node-gyp-build: build/Release/tsbpf.node when the addon was built here (a checkout, or an
  // install that had to compile it), else prebuilds/<platform>-<arch>/ (scripts/prebuilds.sh).
  let path: string;
  try {
    const nodeGypBuild = require("node-gyp-build") as { resolve(dir: string): string };
    path = nodeGypBuild.resolve(root);
  } catch (e) {
    throw new AddonError(`${NOT_BUILT} (${(e as Error).message.split("\n")[0]})`, { cause: e });
  }
  let addon: object;
  try {
    addon = require(path) as object;
  } catch (e) {
    throw new AddonError(`${NOT_BUILT}: loading ${path} failed: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const missing = missingNativeFunctions(addon);
  if (missing.length > 0)
    throw new AddonError(
      `the tsbpf native addon at ${path} is older than this tsbpf (it lacks ${missing.join(", ")}): ` +
        "rebuild it with `npm rebuild tsbpf` (in a checkout: `npx node-gyp rebuild`)",
    );
  return addon as Native;
}

let cached: Native | undefined;

/** The addon, loaded on first use so pure modules can import src/sys without it. */
export function native(): Native {
  return (cached ??= load());
}

/**
 * For unit tests only: every sys/ call goes to `fake` (a model of the syscalls' contract, see
 * test/support/fake-kernel.ts) until the returned function restores the previous addon.
 */
export function installFakeNative(fake: Native): () => void {
  const missing = missingNativeFunctions(fake);
  if (missing.length > 0) throw bug(`installFakeNative: the fake lacks ${missing.join(", ")}`);
  const previous = cached;
  cached = fake;
  return () => {
    cached = previous;
  };
}
