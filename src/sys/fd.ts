// File-descriptor ownership: one owner closes exactly once; a FinalizationRegistry closes fds
// whose owner was dropped without close() so long-running programs do not leak them.
import { bug } from "../bug.js";
import { check, Errno, SysError } from "./errors.js";
import { native } from "./native.js";

const leaked = new FinalizationRegistry<number>((fd) => {
  native().close(fd);
});

/** An owned file descriptor. Closing twice is harmless. */
export class FD {
  #fd: number;

  /** Takes ownership of `fd` (a non-negative descriptor). */
  constructor(fd: number) {
    if (!Number.isInteger(fd) || fd < 0) throw bug(`FD: invalid file descriptor ${fd}`);
    this.#fd = fd;
    leaked.register(this, fd, this);
  }

  /** The raw number; throws after close() so a stale number is never reused by mistake. */
  get fd(): number {
    if (this.#fd < 0)
      throw new SysError("use of a file descriptor", Errno.EBADF, {
        hint: "it was closed (close() of its owner, or of the Collection/Loaded that owns it); use the object before closing it, or open it again",
      });
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** A new owned descriptor for the same kernel object (close-on-exec). */
  dup(): FD {
    return new FD(check("dup", native().dup(this.fd)));
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    leaked.unregister(this);
    native().close(fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return this.#fd < 0 ? "FD(closed)" : `FD(${this.#fd})`;
  }
}

/** An owned duplicate (close-on-exec) of a descriptor the caller keeps: a program, map or socket. */
export function dupFd(fd: number, subject?: string): FD {
  return new FD(check("dup", native().dup(fd), subject === undefined ? {} : { subject }));
}

/** read(2) into `buf`: the byte count (0 at the end), or a SysError naming `subject`. */
export function readFd(fd: number, buf: ArrayBufferView, subject?: string): number {
  return check("read", native().read(fd, buf), subject === undefined ? {} : { subject });
}
