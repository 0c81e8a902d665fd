// The one base of every error a tsbpf user can see: a mistake in their input, program, options
// or machine, with a message that names the thing at fault and what to do. A leaf module (no
// imports), so every layer can derive from it and the CLI can classify an error without loading
// the compiler. Anything thrown that is not a TsbpfError is a bug of tsbpf (see src/bug.ts): the
// CLI prints its stack and asks for a report.

const BRAND = Symbol.for("tsbpf.TsbpfError");

/**
 * Base class of tsbpf's user-facing errors (`e instanceof TsbpfError`). Subclasses name
 * themselves (`name`), e.g. MapError, SysError, CompileError, VerifierError.
 */
export class TsbpfError extends Error {
  override readonly name: string = "TsbpfError";

  /**
   * `x instanceof TsbpfError` also holds for the few user errors that keep a built-in base for
   * compatibility (DecodeError is a RangeError, TypeDefinitionError a TypeError: see
   * userErrorClass), and across two copies of tsbpf in one process. Subclasses keep the
   * ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== TsbpfError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [BRAND]?: unknown })[BRAND] === true
    );
  }
}

Object.defineProperty(TsbpfError.prototype, BRAND, { value: true });

/**
 * Marks a user error class that must keep extending a built-in error (RangeError, TypeError)
 * as a TsbpfError too. Everything else extends TsbpfError directly.
 */
export function userErrorClass<C extends abstract new (...args: never[]) => Error>(cls: C): C {
  Object.defineProperty(cls.prototype, BRAND, { value: true });
  return cls;
}
