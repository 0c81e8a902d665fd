// Shared by templates.test.ts and templates-tracing.test.ts: make a project with
// `tsbpf new --template KIND`, build it as `npm run build` does (tsbpf build, then tsc on the
// loader) and type-check it (tsc), then run its loader until it prints what the test expects.
// The project's node_modules links to this checkout (tsbpf, typescript, @types/node) instead of
// `npm install`ing it, so this runs in the VMs, which have no registry to install from
// (new-project.test.ts installs the xdp project from npm for real).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import ts from "typescript";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
export const TSBPF = join(ROOT, "dist/src/cli/bin.js");

/** Run a command to completion; its stdout, or a failure with its output. */
export function sh(cwd: string, cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

export interface Project {
  dir: string;
  elf: string;
}

/**
 * `tsbpf new --template <template> <name>` in `tmp`, linked, built and type-checked; with
 * `typecheck: false` the loader is only transpiled (the VMs run tsc at a tenth of the speed:
 * the host type-checks the same projects in templates.test.ts).
 */
export function createTemplate(
  tmp: string,
  template: string,
  name: string,
  opts: { typecheck?: boolean } = {},
): Project {
  const out = sh(tmp, process.execPath, [TSBPF, "new", "--template", template, name]);
  assert.match(out, new RegExp(`^Created ${name} in `));
  const dir = join(tmp, name);
  mkdirSync(join(dir, "node_modules/@types"), { recursive: true });
  symlinkSync(ROOT, join(dir, "node_modules/tsbpf"));
  symlinkSync(join(ROOT, "node_modules/typescript"), join(dir, "node_modules/typescript"));
  symlinkSync(join(ROOT, "node_modules/@types/node"), join(dir, "node_modules/@types/node"));
  if (opts.typecheck === false) {
    sh(dir, process.execPath, [TSBPF, "build"]);
    mkdirSync(join(dir, "dist"));
    for (const f of ["loader.ts", "shared.ts"]) {
      const js = ts.transpileModule(readFileSync(join(dir, f), "utf8"), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(join(dir, "dist", f.replace(/\.ts$/, ".js")), js);
    }
  } else build(dir);
  return { dir, elf: `target/bpf-programs/${name}/${name}.elf` };
}

/** What `npm run build` and `npm run typecheck` run. */
export function build(dir: string): void {
  const tsc = join(dir, "node_modules/typescript/bin/tsc");
  sh(dir, process.execPath, [TSBPF, "build"]);
  sh(dir, process.execPath, [tsc, "-p", "tsconfig.build.json"]);
  sh(dir, process.execPath, [tsc]); // the probe type-checks too
}

export interface RunOptions {
  /** the loader command (default `node dist/loader.js`), and what wraps it (`ip netns exec …`) */
  command?: string[];
  /** run once the loader says it is attached */
  trigger: () => void;
  /** the output line that shows the probe saw the trigger */
  expect: RegExp | ((line: string) => boolean);
}

/**
 * Starts the loader, waits for its `Loaded:` line, runs the trigger (again every 200 ms until
 * the expected line appears: a datagram can be sent before the first is seen, no time limit
 * of our own — the test runner's timeout bounds it), then stops it with SIGINT and expects exit 0.
 * Returns the output lines.
 */
export async function runUntilSeen(dir: string, args: string[], o: RunOptions): Promise<string[]> {
  const cmd = o.command ?? [process.execPath, "dist/loader.js"];
  const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const lines: string[] = [];
  let stderr = "";
  const matches = (l: string) => (o.expect instanceof RegExp ? o.expect.test(l) : o.expect(l));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let buf = "";
      let loaded = false;
      const attached = (text: string) => {
        if (loaded || !/^Loaded: /m.test(text)) return;
        loaded = true;
        o.trigger();
        timer = setInterval(o.trigger, 200);
      };
      // `tsbpf load --json` says "Loaded:" on stderr (stdout holds only the JSON events)
      child.stderr.on("data", (d) => {
        stderr += String(d);
        attached(stderr);
      });
      child.stdout.on("data", (d) => {
        buf += String(d);
        const parts = buf.split("\n");
        buf = parts.pop()!;
        for (const l of parts) {
          lines.push(l);
          attached(l);
          if (loaded && matches(l)) resolve();
        }
      });
      void exited.then((c) =>
        reject(
          new Error(
            `the loader exited (${c}) before the expected line:\n${lines.join("\n")}\n${stderr}`,
          ),
        ),
      );
    });
  } finally {
    clearInterval(timer);
    child.kill("SIGINT");
  }
  assert.equal(await exited, 0, `the loader's exit status after SIGINT\n${stderr}`);
  return lines;
}
