// Module hooks the `tsbpf` binary registers before loading the compiler: `import ts from
// "typescript"` inside tsbpf resolves to typescript-shim.js, which loads TypeScript with
// require(). Imported as ESM, Node runs its CommonJS export lexer and ESM-syntax detection over
// the 9 MB typescript.js (~0.4 s per cold build); require() skips both.
import type { ResolveHook } from "node:module";

const SHIM = new URL("./typescript-shim.js", import.meta.url).href;
/** The package's dist/src/, whose modules get the shim (user code never runs in the CLI). */
const OURS = new URL("../", import.meta.url).href;

export const resolve: ResolveHook = (specifier, context, next) =>
  specifier === "typescript" && context.parentURL?.startsWith(OURS) === true
    ? { url: SHIM, shortCircuit: true }
    : next(specifier, context);
