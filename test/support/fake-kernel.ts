// A model of the syscalls behind the native addon (aya's sys/fake.rs idea), for unit tests of
// the logic above sys/ (maps, collections, links) without a kernel. It is installed with
// installFakeNative() and answers like Linux for what it models: an fd table (close of a
// closed fd is EBADF, dup makes a new number for the same object), BPF_MAP_CREATE's argument
// checks, hash and array element semantics (BPF_ANY / NOEXIST / EXIST, E2BIG when full,
// GET_NEXT_KEY order and its ENOENT at the end, ENOENT for absent keys, EINVAL for deleting
// array elements), OBJ_GET_INFO_BY_FD for maps, and pointers in attrs that must point into
// buffers the caller registered with addressOf (EFAULT otherwise). Anything it does not model
// answers ENOSYS, so a test cannot pass by accident through an unmodelled call.
// Kernel behaviour it copies: kernel/bpf/syscall.c (map_create, map_*_elem, map_get_next_key),
// kernel/bpf/hashtab.c and arraymap.c.
import { Cmd } from "../../src/sys/bpf.js";
import { Errno } from "../../src/sys/errors.js";
import type { Native, PollHandle } from "../../src/sys/native.js";
import { installFakeNative } from "../../src/sys/native.js";
import { MapType } from "../../src/obj/consts.js";

const ENOSYS = 38;
const ENOTSOCK = 88;

interface FakeMap {
  kind: "map";
  id: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  /** hash: key bytes (hex) → value, in insertion order (the kernel's order is its own too) */
  entries: Map<string, Uint8Array>;
}

interface FakeSocket {
  kind: "socket";
  /** fd of the program attached with SO_ATTACH_BPF, if any */
  attached?: number;
}

type FakeObject = FakeMap | FakeSocket | { kind: "other" };

const HASH_LIKE = new Set<number>([MapType.HASH, MapType.LRU_HASH]);
const ARRAY_LIKE = new Set<number>([MapType.ARRAY]);

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

export class FakeKernel implements Native {
  /** Every bpf() command number in call order (mapElem too), to assert what a call did. */
  readonly bpfCalls: number[] = [];
  /** Every close() attempt: the fd and its result. */
  readonly closes: { fd: number; result: number }[] = [];
  readonly #fds = new Map<number, FakeObject>();
  #nextFd = 100;
  #nextId = 1;
  // Fake addresses: each registered ArrayBuffer gets a base; a view's address is base + offset.
  readonly #bases = new Map<ArrayBufferLike, number>();
  readonly #buffers: { base: number; buffer: ArrayBufferLike }[] = [];
  #nextBase = 0x10000;

  /** Installs this fake as the addon; returns the function that restores the real one. */
  install(): () => void {
    return installFakeNative(this);
  }

  /** Open fds (to check that an operation leaked or closed nothing). */
  get openFds(): number[] {
    return [...this.#fds.keys()];
  }

  /** A socket fd for socket-filter tests. */
  openSocket(): number {
    return this.#open({ kind: "socket" });
  }

  /** An fd standing for a loaded program. */
  openProgram(): number {
    return this.#open({ kind: "other" });
  }

  socketOf(fd: number): FakeSocket | undefined {
    const o = this.#fds.get(fd);
    return o?.kind === "socket" ? o : undefined;
  }

  #open(o: FakeObject): number {
    const fd = this.#nextFd++;
    this.#fds.set(fd, o);
    return fd;
  }

  addressOf(view: ArrayBufferView): bigint {
    let base = this.#bases.get(view.buffer);
    if (base === undefined) {
      base = this.#nextBase;
      this.#nextBase += (view.buffer.byteLength + 4096) & ~4095;
      this.#bases.set(view.buffer, base);
      this.#buffers.push({ base, buffer: view.buffer });
    }
    return BigInt(base + view.byteOffset);
  }

  /** `len` bytes at fake address `addr`, or undefined (EFAULT) when they are not all registered. */
  #mem(addr: number, len: number): Uint8Array | undefined {
    if (addr === 0) return undefined;
    for (const { base, buffer } of this.#buffers)
      if (addr >= base && addr + len <= base + buffer.byteLength)
        return new Uint8Array(buffer, addr - base, len);
    return undefined;
  }

  bpf(cmd: number, attr: Uint8Array): number {
    const v = new DataView(attr.buffer, attr.byteOffset, attr.byteLength);
    switch (cmd) {
      case Cmd.MAP_CREATE:
        this.bpfCalls.push(cmd);
        return this.#mapCreate(v, attr);
      case Cmd.MAP_LOOKUP_ELEM:
      case Cmd.MAP_UPDATE_ELEM:
      case Cmd.MAP_DELETE_ELEM:
      case Cmd.MAP_GET_NEXT_KEY:
        return this.mapElem(
          cmd,
          v.getUint32(0, true),
          Number(v.getBigUint64(8, true)),
          Number(v.getBigUint64(16, true)),
          Number(v.getBigUint64(24, true)),
        );
      case Cmd.OBJ_GET_INFO_BY_FD:
        this.bpfCalls.push(cmd);
        return this.#info(v);
      default:
        this.bpfCalls.push(cmd);
        return -ENOSYS;
    }
  }

  #mapCreate(v: DataView, attr: Uint8Array): number {
    const type = v.getUint32(0, true);
    const keySize = v.getUint32(4, true);
    const valueSize = v.getUint32(8, true);
    const maxEntries = v.getUint32(12, true);
    const flags = v.getUint32(16, true);
    const nameBytes = attr.subarray(28, 44);
    const nul = nameBytes.indexOf(0);
    const name = Buffer.from(nameBytes.subarray(0, nul < 0 ? 16 : nul)).toString("latin1");
    if (!HASH_LIKE.has(type) && !ARRAY_LIKE.has(type)) return -ENOSYS; // not modelled
    // map_alloc_check of hashtab.c / arraymap.c
    if (maxEntries === 0 || valueSize === 0 || keySize === 0) return -Errno.EINVAL;
    if (ARRAY_LIKE.has(type) && keySize !== 4) return -Errno.EINVAL;
    if (keySize > 512) return -Errno.E2BIG;
    return this.#open({
      kind: "map",
      id: this.#nextId++,
      type,
      keySize,
      valueSize,
      maxEntries,
      flags,
      name,
      entries: new Map(),
    });
  }

  #info(v: DataView): number {
    const o = this.#fds.get(v.getUint32(0, true));
    if (o === undefined) return -Errno.EBADF;
    if (o.kind !== "map") return -ENOSYS;
    const len = v.getUint32(4, true);
    const out = this.#mem(Number(v.getBigUint64(8, true)), len);
    if (out === undefined) return -Errno.EFAULT;
    const info = new Uint8Array(88);
    const d = new DataView(info.buffer);
    d.setUint32(0, o.type, true);
    d.setUint32(4, o.id, true);
    d.setUint32(8, o.keySize, true);
    d.setUint32(12, o.valueSize, true);
    d.setUint32(16, o.maxEntries, true);
    d.setUint32(20, o.flags, true);
    info.set(Buffer.from(o.name, "latin1").subarray(0, 15), 24);
    out.set(info.subarray(0, Math.min(len, info.length)));
    v.setUint32(4, Math.min(len, info.length), true);
    return 0;
  }

  mapElem(cmd: number, fd: number, keyAddr: number, valueAddr: number, flags: number): number {
    this.bpfCalls.push(cmd);
    const m = this.#fds.get(fd);
    if (m === undefined) return -Errno.EBADF;
    if (m.kind !== "map") return -Errno.EINVAL;
    const key = keyAddr === 0 ? undefined : this.#mem(keyAddr, m.keySize);
    if (keyAddr !== 0 && key === undefined) return -Errno.EFAULT;
    if (cmd === Cmd.MAP_GET_NEXT_KEY) {
      const next = this.#mem(valueAddr, m.keySize);
      if (next === undefined) return -Errno.EFAULT;
      return ARRAY_LIKE.has(m.type) ? arrayNextKey(m, key, next) : hashNextKey(m, key, next);
    }
    if (key === undefined) return -Errno.EFAULT;
    const isArray = ARRAY_LIKE.has(m.type);
    const index = isArray ? new DataView(key.buffer, key.byteOffset, 4).getUint32(0, true) : 0;
    const k = isArray ? String(index) : hex(key);
    switch (cmd) {
      case Cmd.MAP_LOOKUP_ELEM: {
        const out = this.#mem(valueAddr, m.valueSize);
        if (out === undefined) return -Errno.EFAULT;
        if (isArray) {
          if (index >= m.maxEntries) return -Errno.ENOENT;
          out.set(m.entries.get(k) ?? new Uint8Array(m.valueSize));
          return 0;
        }
        const val = m.entries.get(k);
        if (val === undefined) return -Errno.ENOENT;
        out.set(val);
        return 0;
      }
      case Cmd.MAP_UPDATE_ELEM: {
        const val = this.#mem(valueAddr, m.valueSize);
        if (val === undefined) return -Errno.EFAULT;
        if (flags > 2) return -Errno.EINVAL;
        if (isArray) {
          if (index >= m.maxEntries) return -Errno.E2BIG;
          if (flags === 1) return -Errno.EEXIST; // every array element exists
          m.entries.set(k, val.slice());
          return 0;
        }
        const exists = m.entries.has(k);
        if (flags === 1 && exists) return -Errno.EEXIST;
        if (flags === 2 && !exists) return -Errno.ENOENT;
        if (!exists && m.entries.size >= m.maxEntries) return -Errno.E2BIG;
        m.entries.set(k, val.slice());
        return 0;
      }
      case Cmd.MAP_DELETE_ELEM:
        if (isArray) return -Errno.EINVAL;
        return m.entries.delete(k) ? 0 : -Errno.ENOENT;
      default:
        return -Errno.EINVAL;
    }
  }

  ringbufScan(): number {
    return 0; // no ring buffers are modelled: a scan finds nothing
  }
  ringbufCollect(): number {
    return 0;
  }

  close(fd: number): number {
    const r = this.#fds.delete(fd) ? 0 : -Errno.EBADF;
    this.closes.push({ fd, result: r });
    return r;
  }

  dup(fd: number): number {
    const o = this.#fds.get(fd);
    return o === undefined ? -Errno.EBADF : this.#open(o);
  }

  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number {
    const o = this.#fds.get(fd);
    if (o === undefined) return -Errno.EBADF;
    if (o.kind !== "socket") return -ENOTSOCK;
    if (level !== 1) return -ENOSYS;
    if (name === 50) {
      // SO_ATTACH_BPF
      const prog = new DataView(value.buffer, value.byteOffset, 4).getInt32(0, true);
      if (!this.#fds.has(prog)) return -Errno.EBADF;
      o.attached = prog;
      return 0;
    }
    if (name === 27) {
      // SO_DETACH_BPF
      if (o.attached === undefined) return -Errno.ENOENT;
      o.attached = undefined;
      return 0;
    }
    return -ENOSYS;
  }

  pageSize(): number {
    return 4096;
  }
  errnoName(): string | null {
    return null; // sys/errors.ts falls back to its own table
  }
  strerror(errno: number): string {
    return `errno ${errno}`;
  }

  // Not modelled: every call fails with ENOSYS.
  perfEventOpen(): number {
    return -ENOSYS;
  }
  ioctl(): number {
    return -ENOSYS;
  }
  mmap(): number {
    return -ENOSYS;
  }
  munmap(): number {
    return -ENOSYS;
  }
  pollStart(): PollHandle | number {
    return -ENOSYS;
  }
  pollStop(): number {
    return -ENOSYS;
  }
  pollRef(): number {
    return -ENOSYS;
  }
  socket(): number {
    return -ENOSYS;
  }
  bind(): number {
    return -ENOSYS;
  }
  getsockopt(): number {
    return -ENOSYS;
  }
  send(): number {
    return -ENOSYS;
  }
  recv(): number {
    return -ENOSYS;
  }
  read(): number {
    return -ENOSYS;
  }
  write(): number {
    return -ENOSYS;
  }
  eventfd(): number {
    return -ENOSYS;
  }
  mount(): number {
    return -ENOSYS;
  }
  ifNameToIndex(): number {
    return -Errno.ENODEV;
  }
}

/** hashtab.c htab_map_get_next_key: no key or an absent one → the first; after the last → ENOENT. */
function hashNextKey(m: FakeMap, key: Uint8Array | undefined, next: Uint8Array): number {
  const keys = [...m.entries.keys()];
  const i = key === undefined ? -1 : keys.indexOf(hex(key));
  const n = keys[i + 1];
  if (n === undefined) return -Errno.ENOENT;
  next.set(Buffer.from(n, "hex"));
  return 0;
}

/** arraymap.c array_map_get_next_key: index ≥ max → 0; the last index → ENOENT. */
function arrayNextKey(m: FakeMap, key: Uint8Array | undefined, next: Uint8Array): number {
  const index =
    key === undefined ? m.maxEntries : new DataView(key.buffer, key.byteOffset).getUint32(0, true);
  const n = index >= m.maxEntries ? 0 : index + 1;
  if (n >= m.maxEntries) return -Errno.ENOENT;
  new DataView(next.buffer, next.byteOffset).setUint32(0, n, true);
  return 0;
}
