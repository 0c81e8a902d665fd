// Map element commands over buffers the caller owns and keeps alive (a map's key/value scratch,
// an iterator's two key buffers): the addresses are resolved once, each command is then one
// N-API call with plain numbers (the addon's mapElem builds the attr in C: ~5% more lookups/s
// than writing the attr here, bench/), or the attr path when an address does not fit a double.
import { MapElemAttr } from "./bpf.js";
import { native, type Native } from "./native.js";

/** The address of a view's first byte, for u64 pointer fields; keep the view alive meanwhile. */
export function addressOf(view: ArrayBufferView): bigint {
  return native().addressOf(view);
}

/** Element commands on one map fd with a fixed key buffer and value buffer. */
export class MapElemOps {
  readonly #fd: number;
  readonly #keyAddr: bigint;
  readonly #valueAddr: bigint;
  readonly #keyNum: number;
  readonly #valueNum: number;
  readonly #fast: boolean;
  readonly #attr: MapElemAttr;
  readonly #native: Native = native();

  /** `key`/`value` null (or empty) when no command will use them. */
  constructor(fd: number, key: Uint8Array | null, value: Uint8Array | null) {
    this.#fd = fd;
    this.#keyAddr = key && key.byteLength > 0 ? this.#native.addressOf(key) : 0n;
    this.#valueAddr = value && value.byteLength > 0 ? this.#native.addressOf(value) : 0n;
    this.#keyNum = Number(this.#keyAddr);
    this.#valueNum = Number(this.#valueAddr);
    this.#fast =
      BigInt(this.#keyNum) === this.#keyAddr && BigInt(this.#valueNum) === this.#valueAddr;
    this.#attr = new MapElemAttr(fd);
  }

  /** Runs `cmd` with the key and/or value buffer (NULL for the ones not used): 0 or -errno. */
  run(cmd: number, useKey: boolean, useValue: boolean, flags: number): number {
    if (this.#fast)
      return this.#native.mapElem(
        cmd,
        this.#fd,
        useKey ? this.#keyNum : 0,
        useValue ? this.#valueNum : 0,
        flags,
      );
    return this.#attr.run(cmd, useKey ? this.#keyAddr : 0n, useValue ? this.#valueAddr : 0n, flags);
  }
}
