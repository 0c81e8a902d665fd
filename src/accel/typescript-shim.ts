// What tsbpf's `import ts from "typescript"` resolves to in the `tsbpf` binary (see
// typescript-hooks.ts): the module typescript-load.ts loaded, as the default export.
import { loadTypeScript } from "./typescript-load.js";

export default loadTypeScript();
