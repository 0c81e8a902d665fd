// The one error type for bad object files (ELF, BTF, .BTF.ext, instructions). Parsers of
// untrusted input throw only this, so callers can tell "this file is broken" from a bug.

import { TsbpfError } from "../errors.js";

/** Where in the object the problem was found. Both parts are optional. */
export interface ObjectErrorLocation {
  /** section name, e.g. ".maps" or "xdp" */
  section?: string;
  /** byte offset (within the section when `section` is given, else within the file) */
  offset?: number;
}

/**
 * A malformed or foreign object file. The message reads
 * `malformed eBPF object: <what> (section .maps, offset 0x40)`; `detail` holds `<what>` alone.
 */
export class ObjectError extends TsbpfError {
  override readonly name = "ObjectError";
  readonly section?: string;
  readonly offset?: number;
  /** The problem without prefix and location. */
  readonly detail: string;

  constructor(message: string, where?: ObjectErrorLocation) {
    super(formatMessage("malformed eBPF object: ", message, where));
    this.detail = message;
    if (where?.section !== undefined) this.section = where.section;
    if (where?.offset !== undefined) this.offset = where.offset;
  }

  /**
   * A well-formed object that uses something no loader resolves on its own (an extern defined
   * in another object, a call into a static program): `unsupported eBPF object: …`.
   */
  static unsupported(message: string, where?: ObjectErrorLocation): ObjectError {
    const e = new ObjectError(message, where);
    e.message = formatMessage("unsupported eBPF object: ", message, where);
    return e;
  }

  /** A well-formed file that is not an eBPF object (wrong class, byte order or machine). */
  static notEbpf(message: string): ObjectError {
    const e = new ObjectError(message);
    e.message = formatMessage("not an eBPF object: ", message, undefined);
    return e;
  }
}

function formatMessage(
  prefix: string,
  what: string,
  where: ObjectErrorLocation | undefined,
): string {
  const at: string[] = [];
  if (where?.section !== undefined) at.push(`section ${where.section}`);
  if (where?.offset !== undefined) at.push(`offset 0x${where.offset.toString(16)}`);
  return prefix + what + (at.length > 0 ? ` (${at.join(", ")})` : "");
}
