// Running the `tsbpf` command the way users do, with a private cache directory, for the tests of
// the startup snapshot and the build server: output normalised so two runs compare equal.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository (this file is dist/test/support/cli-run.js). */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** the `tsbpf: …` lines TSBPF_DEBUG adds to stderr (left out of `stderr`) */
  debug: string[];
}

/**
 * Runs `cmd args` (node with bin.js, or bin/tsbpf or a link to it) with a private cache, in the
 * repository unless `cwd` says otherwise. Builds start no build server unless `env` allows it.
 */
export function launch(
  cmd: string,
  cacheHome: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  cwd = ROOT,
): Run {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: "1",
    XDG_CACHE_HOME: cacheHome,
    TSBPF_DEBUG: "1",
    TSBPF_SERVER: "0",
    ...env,
  };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd, env: merged as NodeJS.ProcessEnv });
  const lines = r.stderr.split("\n");
  return {
    status: r.status,
    // compile times differ between runs
    stdout: r.stdout.replace(/, \d+ ms\)/g, ", N ms)"),
    stderr: lines.filter((l) => !l.startsWith("tsbpf: ")).join("\n"),
    debug: lines.filter((l) => l.startsWith("tsbpf: ")),
  };
}
