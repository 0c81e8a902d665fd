// Errors of the attach layer. Kernel refusals stay `SysError` (from src/sys); these cover what
// is wrong before or around the syscall: a missing target, a missing option, a malformed file
// or message we had to read to find the target.

import { TsbpfError } from "../errors.js";

/**
 * The attach target cannot be used: an unknown interface, tracepoint, symbol or library, a
 * missing option, or a kernel feature that is absent. `message` names the target and says what
 * to do.
 */
export class AttachError extends TsbpfError {
  override readonly name = "AttachError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A link operation that cannot be done: the link was closed (its attachment is gone, or was
 * left to its pin). `message` names the link.
 */
export class LinkError extends TsbpfError {
  override readonly name = "LinkError";
}

/**
 * Bytes we parsed to find a target were malformed: an executable's ELF tables, /etc/ld.so.cache
 * or a netlink reply. Parsers of such untrusted input throw only this.
 */
export class FormatError extends TsbpfError {
  override readonly name = "FormatError";
  constructor(
    /** what was being read, e.g. "ELF /usr/lib/libc.so.6" or "netlink reply" */
    readonly source: string,
    /** the problem alone */
    readonly detail: string,
  ) {
    super(`malformed ${source}: ${detail}`);
  }
}
