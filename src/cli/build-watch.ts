// `tsbpf build --watch`: build, then rebuild whenever a TypeScript file under the current
// directory changes (the probe, what it imports), until Ctrl-C. The compiler stays loaded, so
// a rebuild costs the compile alone. Never served by the build server (bin/tsbpf).
import { watch } from "node:fs";

/** Directories whose changes never trigger a build (outputs, dependencies). */
const IGNORED = /(^|\/)(node_modules|dist|target|build|\.git)(\/|$)/;

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
  await once("building");
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(cwd, { recursive: true }, (_event, file) => {
    if (!file || IGNORED.test(file) || !/\.(m|c)?tsx?$/.test(file) || /\.skel\.ts$/.test(file))
      return;
    // editors write a file in several steps: one build for the burst
    clearTimeout(timer);
    timer = setTimeout(() => void once(`${file} changed: building`), 100);
  });
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
  watcher.close();
  return 0;
}
