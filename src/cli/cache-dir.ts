// Where the `tsbpf` binary keeps what makes later builds faster (the TypeScript code cache, the
// build snapshot): $XDG_CACHE_HOME/tsbpf, else ~/.cache/tsbpf. Nothing in it is needed for a
// build to succeed.
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), ".cache") : tmpdir());
  return join(base, "tsbpf");
}
