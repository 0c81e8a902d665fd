// Small fd helpers for links that must keep their own reference to a caller's object.
import { check } from "../sys/errors.js";
import { FD } from "../sys/fd.js";
import { native } from "../sys/native.js";

/** An owned duplicate of a descriptor we do not own (the caller's program or socket). */
export function dupFd(fd: number): FD {
  return new FD(check("dup", native().dup(fd)));
}
