// `tsbpf build --watch`: build, then rebuild whenever a TypeScript file under the current
// directory changes (the probe, what it imports), until Ctrl-C. The compiler stays loaded, so
// a rebuild costs the compile alone. Never served by the build server (bin/tsbpf).
import { readdirSync, watch, type FSWatcher } from "node:fs";
import { join, relative } from "node:path";

/** Directories whose changes never trigger a build (outputs, dependencies). */
const IGNORED = /^(node_modules|dist|target|build|\.git)$/;

/** `runBuild` is build-command.ts's, passed in (main.ts loads it lazily, as for a build). */
export async function watchBuild(
  entries: string[],
  opts: { outDir: string; embed?: boolean },
  runBuild: (entries: string[], opts: { outDir: string; embed?: boolean }) => Promise<number>,
): Promise<number> {
  const cwd = process.cwd();
  const stamp = () => new Date().toTimeString().slice(0, 8);
  let running = false;
  let again = false;
  const once = async (why: string): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        console.log(`[${stamp()}] ${why}`);
        try {
          await runBuild(entries, opts);
        } catch (e) {
          // a usage problem (a missing entry): say it and keep watching for the fix
          console.error(`error: ${(e as Error).message}`);
        }
        console.log(`[${stamp()}] watching for changes (Ctrl-C to stop)`);
        why = "change: building";
      } while (again);
    } finally {
      running = false;
    }
  };
  // One inotify watch per directory, set up before the first build so no change is missed
  // (Node 20's recursive watch on Linux walks the tree asynchronously after it returns).
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  const add = (dir: string): void => {
    const rel = relative(cwd, dir);
    watchers.push(
      watch(dir, (_event, name) => {
        const file = rel ? `${rel}/${name ?? ""}` : (name ?? "");
        if (!name || !/\.(m|c)?tsx?$/.test(name) || /\.skel\.ts$/.test(name)) return;
        // editors write a file in several steps: one build for the burst
        clearTimeout(timer);
        timer = setTimeout(() => void once(`${file} changed: building`), 100);
      }),
    );
    for (const e of readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory() && !IGNORED.test(e.name)) add(join(dir, e.name));
  };
  add(cwd);
  await once("building");
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  clearTimeout(timer);
  for (const w of watchers) w.close();
  return 0;
}
