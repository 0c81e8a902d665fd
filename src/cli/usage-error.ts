// The CLI's own user error, in a module of its own so that small CLI modules (the cache, the
// build server) can throw it without loading the command parser.

import { TsbpfError } from "../errors.js";

/** A mistake the user can fix: printed as one line, exit code 1 (2 for usage). */
export class UsageError extends TsbpfError {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
