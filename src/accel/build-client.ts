// Where the build server's C client (native/tsbpf-client.c) is, as bin/tsbpf finds it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root: this file is <root>/dist/src/<dir>/x.js (or <root>/src/<dir>/x.ts). */
function packageRoot(): string {
  for (const rel of ["../../../", "../../"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "binding.gyp"))) return dir;
  }
  return fileURLToPath(new URL("../../../", import.meta.url));
}

/**
 * The build server's C client: built here, else the prebuilt one for this architecture;
 * undefined when neither exists.
 */
export function buildClientPath(): string | undefined {
  const root = packageRoot();
  return [
    join(root, "build/Release/tsbpf-client"),
    join(root, `prebuilds/${process.platform}-${process.arch}/tsbpf-client`),
  ].find((p) => existsSync(p));
}
