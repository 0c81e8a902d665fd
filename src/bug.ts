// Internal invariants: states the library's own code rules out. They stay plain `Error`s (the
// CLI prints them with a stack and asks for a report) and say so in their message, so a user
// who meets one knows it is not their input at fault. Errors a user can cause or act on use the
// typed classes instead (docs/architecture.md, "Conventions"); test/unit/typed-errors.test.ts
// keeps it that way.

/** An error for a broken internal invariant: `what` is the fact that should have held. */
export function bug(what: string): Error {
  return new Error(
    `${what} (this is a bug in tsbpf: please report it with the command or code that led here)`,
  );
}
