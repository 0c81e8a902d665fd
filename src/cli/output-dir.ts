// `mkdir -p` for build outputs without Node's recursive mkdir, which never returns when a
// directory cannot be made and mkdir(2) says ENOENT for it (`-o /proc/x`: libuv retries the
// parent and the child forever, and a build server running that build spins with it). Here
// each missing directory is made once, from the nearest existing one down, and the first
// failure is thrown naming the directory it concerns (the message is shown to the user).
import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export async function makeDirectories(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(d)).isDirectory();
    } catch (e) {
      // ENOTDIR: a file further up is in the way; the walk up finds it and names it.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(d) === d) throw e;
      missing.unshift(d);
      continue;
    }
    if (isDirectory) break;
    throw Object.assign(new Error(`${d} exists and is not a directory (ENOTDIR)`), {
      code: "ENOTDIR",
    });
  }
  for (const d of missing) {
    try {
      await mkdir(d);
    } catch (e) {
      // made meanwhile by another build: fine if it is a directory now
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && (await stat(d)).isDirectory()) continue;
      throw Object.assign(
        new Error(`cannot create directory ${d}: ${code ?? (e as Error).message}`),
        {
          code,
        },
      );
    }
  }
}
