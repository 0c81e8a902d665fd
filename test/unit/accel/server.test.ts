// The build server (src/accel/server.ts) behind bin/tsbpf and native/tsbpf-client.c: a build it
// serves prints, exits and writes exactly what an ordinary build does, sees the probe as it is
// now, honours the client's directory and umask, and a server that is out of date, idle or
// told to stop goes away while builds carry on without it. Real processes, a private cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { launch, ROOT, type Run } from "../../support/cli-run.js";
import { findSnapshot, recordLaunch, serverSocketFor } from "../../../src/accel/snapshot.js";

const BIN = join(ROOT, "dist/src/cli/bin.js");
const LAUNCHER = join(ROOT, "bin/tsbpf");
const CLIENT = join(ROOT, "build/Release/tsbpf-client");
const MAKER = join(ROOT, "dist/src/accel/snapshot-make.js");

const served = (r: Run) => r.debug.some((l) => l.startsWith("tsbpf: launcher: build server"));
const refused = (r: Run) => r.debug.some((l) => /did not take the build/.test(l));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what} did not happen within ${ms / 1000} s`);
}

const PROBE = (action: string) =>
  'import { program, xdp, XdpAction } from "tsbpf/probe";\n' +
  'import { VERDICT } from "./verdict.js";\n' +
  'program({ license: "GPL" });\n' +
  `export const p = xdp((ctx) => (ctx.len() > 60 ? XdpAction.${action} : VERDICT));\n`;
/** An imported constant: the probe's own modules are read again by every build. */
const VERDICT = (action: string) =>
  `import { XdpAction } from "tsbpf/probe";\nexport const VERDICT = XdpAction.${action};\n`;

test("builds served by the build server equal ordinary builds; the server goes away when it should", async (t) => {
  assert.ok(existsSync(CLIENT), `${CLIENT} is missing: make deps (npm ci) builds it`);
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-server-"));
  const cache = join(dir, "cache");
  const pids = new Set<number>();
  const env = { TSBPF_SERVER: undefined, CI: undefined, TSBPF_SERVER_IDLE: "120" };
  t.after(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    // bin.js rewrites the record for the user's own cache at its next build
    rmSync(join(ROOT, "dist/snapshot/tsbpf-build.launch"), { force: true });
  });
  const made = spawnSync(process.execPath, [MAKER], {
    encoding: "utf8",
    env: { ...process.env, XDG_CACHE_HOME: cache },
  });
  assert.match(made.stdout, /SNAPSHOT .*\.blob/, made.stdout + made.stderr);
  const found = findSnapshot(join(cache, "tsbpf"));
  assert.ok(found.ok, found.ok ? "" : found.reason);
  const socket = serverSocketFor(found.blob);
  const node = (args: string[], extra = {}) =>
    launch(process.execPath, cache, [BIN, ...args], { ...env, ...extra }, dir);
  // Builds of other test files (or their background snapshot makers) rewrite the launch
  // record for their cache: bin/tsbpf would then take the bin.js path. Ours before each run.
  const record = () => recordLaunch(found.blob, found.files, join(cache, "tsbpf"));
  const sh = (args: string[], extra = {}) => {
    record();
    return launch(LAUNCHER, cache, args, { ...env, ...extra }, dir);
  };
  const status = () => {
    const r = node(["server", "status", "--json"]);
    return JSON.parse(r.stdout) as { pid: number; builds: number } | null;
  };

  const start = node(["server", "start"]);
  assert.equal(start.status, 0, start.stderr);
  assert.match(start.stdout, /^started build server pid \d+ on .*\.sock\n$/);
  const first = status()!;
  pids.add(first.pid);
  assert.match(
    node(["server", "start"]).stdout,
    new RegExp(`already running: build server pid ${first.pid}`),
  );

  writeFileSync(join(dir, "probe.ts"), PROBE("Pass"));
  writeFileSync(join(dir, "verdict.ts"), VERDICT("Pass"));
  writeFileSync(join(dir, "bad.ts"), PROBE("Nope"));
  const expected = [0, 1, 1, 2, 0]; // built, compile errors, no such file, usage, built
  // a probe.ts is named after its directory (cargo-bpf's rule)
  const name = basename(dir);
  const elf = (out = "out") => readFileSync(join(dir, out, name, `${name}.elf`));
  // relative paths: resolved in the client's directory, printed relative to it
  const cases = [
    ["build", "probe.ts", "-o", "out"],
    ["build", "bad.ts", "-o", "out"],
    ["build", "missing.ts"],
    ["build", "--bogus"],
    ["build", "-o", "out"], // no entry: ./probe.ts, found in the client's directory
  ];
  for (const [i, args] of cases.entries()) {
    const plain = sh(args, { TSBPF_SERVER: "0" });
    assert.equal(plain.status, expected[i], `${args.join(" ")}: ${plain.stderr}`);
    const plainElf = plain.status === 0 ? elf() : undefined;
    if (plainElf) rmSync(join(dir, "out"), { recursive: true });
    const viaServer = sh(args);
    assert.ok(
      served(viaServer) && !refused(viaServer),
      `${args.join(" ")}:\n${viaServer.debug.join("\n")}`,
    );
    assert.deepEqual(
      { status: viaServer.status, stdout: viaServer.stdout, stderr: viaServer.stderr },
      { status: plain.status, stdout: plain.stdout, stderr: plain.stderr },
      args.join(" "),
    );
    if (plainElf) assert.deepEqual(elf(), plainElf, args.join(" "));
  }
  // help comes from the ordinary path, which fits it to the terminal
  assert.ok(!served(sh(["build", "--help"])));
  // colours follow the client's environment, as picocolors decides them
  const coloured = sh(cases[0]!, { NO_COLOR: undefined, FORCE_COLOR: "1" });
  assert.ok(served(coloured), JSON.stringify(coloured));
  assert.ok(coloured.stdout.includes("\x1b[32mCompiled\x1b[39m"), JSON.stringify(coloured));
  assert.ok(!sh(cases[0]!).stdout.includes("\x1b["));

  // An edited import is seen by the next build.
  const before = elf();
  writeFileSync(join(dir, "verdict.ts"), VERDICT("Tx"));
  const edited = sh(cases[0]!);
  assert.ok(served(edited));
  assert.equal(edited.status, 0, edited.stderr);
  const after = elf();
  assert.notDeepEqual(after, before);
  assert.equal(sh(cases[0]!, { TSBPF_SERVER: "0" }).status, 0);
  assert.deepEqual(elf(), after);

  // The client's umask: files as an ordinary build would make them.
  rmSync(join(dir, "out"), { recursive: true });
  record();
  const masked = spawnSync("sh", ["-c", `umask 027; exec "${LAUNCHER}" build probe.ts -o out`], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, XDG_CACHE_HOME: cache, TSBPF_SERVER: "1", TSBPF_DEBUG: "1" },
  });
  assert.match(masked.stderr, /launcher: build server/);
  assert.equal(statSync(join(dir, "out", name, `${name}.elf`)).mode & 0o777, 0o640);
  assert.equal(statSync(join(dir, "out", name)).mode & 0o777, 0o750);

  // Builds at the same time are served one after the other, each in its own directory.
  record();
  const together = await Promise.all(
    [0, 1, 2].map(
      (i) =>
        new Promise<number | null>((resolve) => {
          const c = spawn(LAUNCHER, ["build", "probe.ts", "-o", `par${i}`], {
            cwd: dir,
            stdio: "ignore",
            env: { ...process.env, XDG_CACHE_HOME: cache, TSBPF_SERVER: "1" },
          });
          c.on("close", resolve);
        }),
    ),
  );
  assert.deepEqual(together, [0, 0, 0]);
  for (const i of [0, 1, 2]) assert.deepEqual(elf(`par${i}`), after);

  // Garbage on the socket is refused (an exit frame with 75, "not served") without harming
  // the server.
  const answer = await new Promise<Buffer>((resolve) => {
    const c = createConnection(socket);
    const got: Buffer[] = [];
    c.on("connect", () => c.end(Buffer.from("\xff\xff\xff\x7fnot a request")));
    c.on("data", (d: Buffer) => got.push(d));
    c.on("close", () => resolve(Buffer.concat(got)));
    c.on("error", () => {});
  });
  assert.deepEqual([...answer], [3, 2, 0, 0, 0, 0x37, 0x35]);
  const counted = status()!;
  assert.equal(counted.pid, first.pid);
  // the five cases, two colour checks, the edit, the umask and three at once
  assert.equal(counted.builds, 12);

  // A new snapshot (the package was rebuilt): the old server refuses the build and stops, the
  // build runs the ordinary way and starts a server from the new snapshot in the background.
  copyFileSync(found.blob, `${found.blob}.new`);
  renameSync(`${found.blob}.new`, found.blob);
  const stale = sh(cases[0]!);
  assert.equal(stale.status, 0, stale.stderr);
  assert.ok(refused(stale), stale.debug.join("\n"));
  assert.ok(stale.debug.some((l) => l.startsWith("tsbpf: snapshot loaded")));
  assert.deepEqual(elf(), after);
  await until("the stale server's exit", () => !alive(first.pid));
  await until("a new server", () => status() !== null);
  const second = status()!;
  pids.add(second.pid);
  assert.notEqual(second.pid, first.pid);
  assert.ok(served(sh(cases[0]!)));

  // stop, then status says none (exit 1) and builds go the ordinary way
  const stop = node(["server", "stop"]);
  assert.equal(stop.stdout, `stopped build server pid ${second.pid}\n`);
  await until("the stopped server's exit", () => !alive(second.pid));
  assert.ok(!existsSync(socket));
  const none = node(["server", "status"]);
  assert.equal(none.status, 1);
  assert.match(none.stdout, /^no build server running/);
  assert.equal(node(["server", "stop"]).stdout, "no build server was running\n");

  // A server that does not answer (here: stopped with SIGSTOP; in life, a build that never
  // ends) is killed through the pid it left next to its socket.
  assert.equal(node(["server", "start"]).status, 0);
  const hung = status()!.pid;
  pids.add(hung);
  process.kill(hung, "SIGSTOP");
  const stopHung = node(["server", "stop"]);
  assert.equal(
    stopHung.stdout,
    `build server pid ${hung} did not stop when asked (a build that never ends?): killed it\n`,
  );
  await until("the hung server's exit", () => !alive(hung));
  assert.ok(!existsSync(socket) && !existsSync(`${socket}.pid`));

  // CI and TSBPF_SERVER=0 start none; an idle server exits by itself.
  for (const off of [{ CI: "true" }, { TSBPF_SERVER: "0" }]) {
    const r = sh(cases[0]!, off);
    assert.equal(r.status, 0);
    assert.ok(!served(r));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(status(), null, JSON.stringify(off));
  }
  assert.equal(sh(cases[0]!, { TSBPF_SERVER_IDLE: "1" }).status, 0);
  await until("a server started by a build", () => status() !== null);
  const idle = status()!;
  pids.add(idle.pid);
  await until("the idle server's exit", () => !alive(idle.pid));
  assert.ok(!existsSync(socket));
  // A server that died leaves its socket: the client finds no one there (exit 75), the build
  // runs the ordinary way and a new server binds the socket again.
  assert.equal(sh(cases[0]!).status, 0);
  await until("a server started by a build", () => status() !== null);
  const killed = status()!.pid;
  pids.add(killed);
  process.kill(killed, "SIGKILL");
  await until("the killed server's exit", () => !alive(killed));
  assert.ok(existsSync(socket));
  const orphan = sh(cases[0]!);
  assert.equal(orphan.status, 0, orphan.stderr);
  assert.ok(refused(orphan), orphan.debug.join("\n"));
  assert.deepEqual(elf(), after);
  await until("a server on the orphaned socket", () => status() !== null);
  pids.add(status()!.pid);
  assert.match(node(["server", "stop"]).stdout, /^stopped/);
});
