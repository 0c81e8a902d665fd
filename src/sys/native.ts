// Loads the N-API addon (native/tsbpf.c). Every syscall returns its result or -errno; the
// wrappers in src/sys turn negative results into SysError.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The raw addon surface. Numbers < 0 are -errno unless stated otherwise. */
export interface Native {
  bpf(cmd: number, attr: Uint8Array): number;
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

/**
 * The build server's C client (native/tsbpf-client.c), as bin/tsbpf finds it: built here, else
 * the prebuilt one for this architecture; undefined when neither exists.
 */
export function buildClientPath(): string | undefined {
  const root = packageRoot();
  return [
    join(root, "build/Release/tsbpf-client"),
    join(root, `prebuilds/${process.platform}-${process.arch}/tsbpf-client`),
  ].find((p) => existsSync(p));
}

/** The native addon cannot be found or loaded (an install problem): the message says how to fix it. */
export class AddonError extends Error {
  override readonly name = "AddonError";
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
  try {
    return require(path) as Native;
  } catch (e) {
    throw new AddonError(`${NOT_BUILT}: loading ${path} failed: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

let cached: Native | undefined;

/** The addon, loaded on first use so pure modules can import src/sys without it. */
export function native(): Native {
  return (cached ??= load());
}
