// What every declaration of tsbpf/probe does when run in Node: nothing useful. The compiler
// never calls these bodies; it recognises each declaration by its symbol (src/compiler/frontend/
// typecheck.ts, probeExports) and lowers the call in its place.

/** Parameters exist for their types; the bodies never use them. */
export function unused(...args: unknown[]): void {
  void args;
}

/** Thrown by every declaration here when run in Node. */
export function kernelOnly(): never {
  throw new Error("probe code runs in the kernel; build it with tsbpf build");
}
