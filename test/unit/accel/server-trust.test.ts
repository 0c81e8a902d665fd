// The build server and its cache are used only when they are the user's own (cache-dir.ts,
// server.ts, native/tsbpf-client.c, bin/tsbpf), and a build that never ends no longer blocks
// every later build. Each attack of issue 17 as it was found, with real processes: a second
// user is a throwaway uid (setpriv, no account needed) that owns a home directory, a snapshot,
// a replaced blob and servers of its own; root runs tsbpf against them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, ROOT, type Run } from "../../support/cli-run.js";
import {
  findSnapshot,
  LAUNCH_FILE,
  recordLaunch,
  serverSocketFor,
  SNAPSHOT_FLAGS,
} from "../../../src/accel/snapshot.js";
import { encodeRequest } from "../../../src/accel/server-protocol.js";
import { makeDirectories } from "../../../src/cli/output-dir.js";

const BIN = join(ROOT, "dist/src/cli/bin.js");
const LAUNCHER = join(ROOT, "bin/tsbpf");
const MAKER = join(ROOT, "dist/src/accel/snapshot-make.js");
const SERVER_JS = join(ROOT, "dist/src/accel/server.js");

const PROBE =
  'import { program, xdp, XdpAction } from "tsbpf/probe";\n' +
  'program({ license: "GPL" });\n' +
  "export const p = xdp(() => XdpAction.Pass);\n";

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
const mode = (p: string) => statSync(p).mode & 0o7777;
const served = (r: Run) => r.debug.some((l) => l.startsWith("tsbpf: launcher: build server"));

/** A uid no account uses: the second user. */
function freeUid(): number {
  for (let uid = 47000 + (process.pid % 2000); ; uid++)
    if (spawnSync("getent", ["passwd", String(uid)]).status !== 0) return uid;
}

/** Root's own private cache with a snapshot in it (made here). */
function makeOwnSnapshot(cache: string) {
  const made = spawnSync(process.execPath, [MAKER], {
    encoding: "utf8",
    env: { ...process.env, XDG_CACHE_HOME: cache },
  });
  assert.match(made.stdout, /SNAPSHOT .*\.blob/, made.stdout + made.stderr);
  const found = findSnapshot(join(cache, "tsbpf"));
  assert.ok(found.ok, found.ok ? "" : found.reason);
  return found;
}

function setup(t: { after: (fn: () => void) => void }) {
  needsRoot();
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-trust-"));
  const pids = new Set<number>();
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) {
      try {
        process.kill(-c.pid!, "SIGKILL"); // the group of a run(), and what it started
      } catch {
        if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      }
    }
    for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(ROOT, LAUNCH_FILE), { force: true });
  });
  return { dir, pids, children };
}

function needsRoot(): void {
  // the second user is made with setpriv, which needs root (as CI and this machine run tests)
  assert.equal(process.getuid?.(), 0, "these tests run as root: they need a second user");
}

test("the cache directory is 0700 and the blob, manifest and pid file 0600; an own 0755 cache is tightened", (t) => {
  const { dir } = setup(t);
  const fresh = join(dir, "fresh");
  const found = makeOwnSnapshot(fresh);
  assert.equal(mode(join(fresh, "tsbpf")), 0o700);
  assert.equal(mode(found.blob), 0o600);
  assert.equal(mode(found.blob.replace(/\.blob$/, ".json")), 0o600);
  // a cache an older tsbpf made world-readable
  const old = join(dir, "old");
  mkdirSync(join(old, "tsbpf"), { recursive: true, mode: 0o755 });
  chmodSync(join(old, "tsbpf"), 0o755);
  makeOwnSnapshot(old);
  assert.equal(mode(join(old, "tsbpf")), 0o700);
});

test("root with HOME in a user's home neither runs the user's blob nor talks to the user's socket", async (t) => {
  const { dir, pids, children } = setup(t);
  chmodSync(dir, 0o755);
  const uid = freeUid();
  const as = ["--reuid", String(uid), "--regid", String(uid), "--clear-groups", "--"];
  const home = join(dir, "home");
  mkdirSync(home, { mode: 0o755 });
  chownSync(home, uid, uid);
  const marks = join(dir, "marks");
  mkdirSync(marks);
  chmodSync(marks, 0o1777);
  const userEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: undefined, CI: undefined };
  delete userEnv.XDG_CACHE_HOME;
  const asUser = (cmd: string, args: string[], extra: Record<string, string> = {}) =>
    spawnSync("setpriv", [...as, cmd, ...args], {
      encoding: "utf8",
      cwd: home,
      env: { ...userEnv, ...extra },
    });

  // The user's own snapshot (the user cannot write the package: no launch record from it).
  const made = asUser(process.execPath, [MAKER]);
  assert.match(made.stdout, /SNAPSHOT .*\.blob/, made.stdout + made.stderr);
  const userCache = join(home, ".cache", "tsbpf");
  const blobName = readdirSync(userCache).find((n) => n.endsWith(".blob"))!;
  const blob = join(userCache, blobName);
  const manifestFile = blob.replace(/\.blob$/, ".json");
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as {
    blobSize: number;
    files: { path: string }[];
  };
  const socket = serverSocketFor(blob);

  // Root's work: a probe in root's own directory (world-writable only so that a build the
  // user's server wrongly ran would show).
  const work = join(dir, "work");
  mkdirSync(work);
  chmodSync(work, 0o777);
  writeFileSync(join(work, "p.ts"), PROBE);
  const elf = (out: string) => join(work, out, "p", "p.elf");

  // 1. The user's real server; root connects claiming the user's uid: refused (SO_PEERCRED).
  const start = asUser(process.execPath, [BIN, "server", "start"], { TSBPF_SERVER_IDLE: "60" });
  assert.equal(start.status, 0, start.stdout + start.stderr);
  const userServer = Number(/pid (\d+)/.exec(start.stdout)![1]);
  pids.add(userServer);
  const answer = await new Promise<Buffer>((resolve) => {
    const c = createConnection(socket);
    const got: Buffer[] = [];
    c.on("connect", () =>
      c.write(
        encodeRequest({
          cwd: work,
          umask: 0o022,
          stdoutTty: false,
          stderrTty: false,
          uid, // a lie: root is uid 0
          argv: ["build", "p.ts", "-o", "claimed"],
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        }),
      ),
    );
    c.on("data", (d: Buffer) => got.push(d));
    c.on("close", () => resolve(Buffer.concat(got)));
    c.on("error", () => {});
  });
  assert.deepEqual([...answer], [3, 2, 0, 0, 0, 0x37, 0x35]); // exit frame, 75: not served
  assert.ok(!existsSync(join(work, "claimed")), "the user's server built root's request");
  const stopped = asUser(process.execPath, [BIN, "server", "stop"]);
  assert.match(stopped.stdout, /stopped build server/, stopped.stdout + stopped.stderr);
  await until("the user's server's exit", () => !alive(userServer));

  // 2. The user replaces the blob with one of their own making (the manifest size fixed) and
  // listens on the socket with a server that answers "Compiled" and records what it got.
  const evil = join(dir, "evil.js");
  writeFileSync(
    evil,
    `require("node:v8").startupSnapshot.setDeserializeMainFunction(() => {
       require("node:fs").writeFileSync(${JSON.stringify(marks)} + "/ran-as-" + process.getuid(), "");
       console.log("Compiled (the user's blob)");
     });`,
  );
  chmodSync(evil, 0o644);
  const evilBlob = join(marks, "evil.blob");
  const built = asUser(process.execPath, [
    ...SNAPSHOT_FLAGS,
    "--snapshot-blob",
    evilBlob,
    "--build-snapshot",
    evil,
  ]);
  assert.equal(built.status, 0, built.stderr);
  assert.equal(asUser("cp", [evilBlob, blob]).status, 0);
  manifest.blobSize = statSync(blob).size;
  writeFileSync(join(marks, "manifest.json"), JSON.stringify(manifest));
  assert.equal(asUser("cp", [join(marks, "manifest.json"), manifestFile]).status, 0);
  const fake = join(dir, "fake-server.cjs");
  const log = join(marks, "fake.log");
  writeFileSync(
    fake,
    `const net = require("node:net"), fs = require("node:fs");
     const [sock, log] = process.argv.slice(2);
     fs.rmSync(sock, { force: true });
     const frame = (k, s) => { const b = Buffer.from(s), h = Buffer.alloc(5); h[0] = k; h.writeUInt32LE(b.length, 1); return Buffer.concat([h, b]); };
     net.createServer((c) => {
       fs.appendFileSync(log, "connection\\n");
       c.on("data", (d) => fs.appendFileSync(log, "data " + d.length + "\\n"));
       c.on("error", () => {});
       c.end(Buffer.concat([frame(4, "600"), frame(1, "Compiled (the user's server)\\n"), frame(3, "0")]));
     }).listen(sock, () => fs.appendFileSync(log, "listening\\n"));`,
  );
  chmodSync(fake, 0o644);
  const fakeServer = spawn("setpriv", [...as, process.execPath, fake, socket, log], {
    stdio: "ignore",
    env: userEnv,
  });
  children.push(fakeServer);
  await until("the user's fake server", () => existsSync(log));

  // A launch record that names the user's cache, as a build of the user's would have written
  // into a package the user can write; root's HOME is the user's home (sudo -E).
  recordLaunch(
    blob,
    manifest.files.map((f) => f.path),
    userCache,
  );
  const rootEnv = {
    HOME: home,
    XDG_CACHE_HOME: undefined,
    TSBPF_SERVER: "1",
    CI: undefined,
  };
  for (const [cmd, args] of [
    [LAUNCHER, ["build", "p.ts", "-o", "sh"]],
    [process.execPath, [BIN, "build", "p.ts", "-o", "node"]],
  ] as const) {
    const r = launch(cmd, "", [...args], rootEnv, work);
    const out = args.at(-1)!;
    assert.equal(r.status, 0, `${cmd}: ${r.stderr}\n${r.debug.join("\n")}`);
    assert.match(r.stdout, /Compiled/);
    assert.doesNotMatch(r.stdout, /the user's/);
    assert.ok(existsSync(elf(out)), `${cmd} wrote no ELF`);
    assert.ok(
      r.debug.some((l) => /not yours alone/.test(l)),
      `${cmd} did not say why:\n${r.debug.join("\n")}`,
    );
  }
  assert.deepEqual(
    readdirSync(marks).filter((n) => n.startsWith("ran-as-")),
    [],
    "the user's blob ran",
  );
  assert.deepEqual(readFileSync(log, "utf8"), "listening\n", "root talked to the user's socket");
  // root made nothing in the user's home, nor started a server there
  const rootOwned = (p: string): string[] => {
    const s = lstatSync(p);
    const mine = s.uid === 0 ? [p] : [];
    return s.isDirectory()
      ? [...mine, ...readdirSync(p).flatMap((n) => rootOwned(join(p, n)))]
      : mine;
  };
  assert.deepEqual(rootOwned(home), []);
  const refusedStart = launch(process.execPath, "", [BIN, "server", "start"], rootEnv, work);
  assert.notEqual(refusedStart.status, 0);
  assert.match(refusedStart.stderr, /not yours alone: .*owned by uid \d+/);

  // A launch record that is not root's own is not read at all.
  // (bin.js removed the record when it found the snapshot unusable)
  recordLaunch(
    blob,
    manifest.files.map((f) => f.path),
    userCache,
  );
  const record = join(ROOT, LAUNCH_FILE);
  chownSync(record, uid, uid);
  const notMine = launch(LAUNCHER, "", ["build", "p.ts", "-o", "sh2"], rootEnv, work);
  assert.equal(notMine.status, 0, notMine.stderr);
  assert.ok(notMine.debug.some((l) => /tsbpf-build\.launch is not yours$/.test(l)));
});

test("the client sends nothing to a server of another user, even at its own socket's name", async (t) => {
  const { dir, children } = setup(t);
  chmodSync(dir, 0o755);
  const uid = freeUid();
  const cache = join(dir, "cache");
  const found = makeOwnSnapshot(cache);
  const socket = serverSocketFor(found.blob);
  // The other user listens in a directory of theirs; root's cache then gets that socket
  // (renamed in and given to root): every file check passes, only SO_PEERCRED tells.
  const theirs = join(dir, "theirs");
  mkdirSync(theirs, { mode: 0o777 });
  chmodSync(theirs, 0o777);
  const log = join(theirs, "fake.log");
  const fake = join(dir, "fake.cjs");
  writeFileSync(
    fake,
    `const net = require("node:net"), fs = require("node:fs");
     const [sock, log] = process.argv.slice(2);
     net.createServer((c) => {
       c.on("data", (d) => fs.appendFileSync(log, "data " + d.length + "\\n"));
       c.on("error", () => {});
     }).listen(sock, () => fs.appendFileSync(log, "listening\\n"));`,
  );
  chmodSync(fake, 0o644);
  const theirSocket = join(theirs, "s.sock");
  const server = spawn(
    "setpriv",
    [
      ...["--reuid", String(uid), "--regid", String(uid), "--clear-groups", "--"],
      process.execPath,
      fake,
      theirSocket,
      log,
    ],
    { stdio: "ignore" },
  );
  children.push(server);
  await until("the other user's server", () => existsSync(log));
  renameSync(theirSocket, socket);
  chownSync(socket, 0, 0);
  chmodSync(socket, 0o700);

  const work = join(dir, "work");
  mkdirSync(work);
  writeFileSync(join(work, "p.ts"), PROBE);
  recordLaunch(found.blob, found.files, join(cache, "tsbpf"));
  const r = launch(LAUNCHER, cache, ["build", "p.ts", "-o", "out"], { TSBPF_SERVER: "1" }, work);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(served(r), r.debug.join("\n")); // it tried the server …
  assert.ok(
    r.debug.some((l) => /is not yours \(uid \d+\): nothing sent/.test(l)),
    r.debug.join("\n"),
  );
  assert.ok(existsSync(join(work, "out", "p", "p.elf"))); // … and built from its own snapshot
  // `tsbpf server status` (the Node client) does not ask it either
  const status = launch(process.execPath, cache, [BIN, "server", "status"], {}, work);
  assert.equal(status.status, 1);
  assert.equal(readFileSync(log, "utf8"), "listening\n", "bytes were sent to the other user");
});

test("a symbolic link planted at the pid file or the log is not written through", async (t) => {
  const { dir, pids } = setup(t);
  const cache = join(dir, "cache");
  const found = makeOwnSnapshot(cache);
  const socket = serverSocketFor(found.blob);
  const victim = join(dir, "victim");
  writeFileSync(victim, "precious\n");
  symlinkSync(victim, `${socket}.pid`);
  symlinkSync(victim, `${socket}.log`);
  const start = launch(process.execPath, cache, [BIN, "server", "start"], { TSBPF_DEBUG: "1" });
  assert.equal(start.status, 0, start.stderr);
  const pid = Number(/pid (\d+)/.exec(start.stdout)![1]);
  pids.add(pid);
  assert.equal(readFileSync(victim, "utf8"), "precious\n");
  assert.ok(lstatSync(`${socket}.pid`).isFile());
  assert.equal(mode(`${socket}.pid`), 0o600);
  assert.equal(readFileSync(`${socket}.pid`, "utf8"), `${pid}\n`);
  const stop = launch(process.execPath, cache, [BIN, "server", "stop"]);
  assert.equal(stop.stdout, `stopped build server pid ${pid}\n`);
});

/** Runs a command to its end, or kills it after `ms` (then status and signal say so). */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  children: ChildProcess[],
  ms = 120_000,
): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // its own process group: a Node it leaves behind is killed with it
    const c = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    children.push(c);
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => process.kill(-c.pid!, "SIGKILL"), ms);
    c.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

test("a build that never ends: later builds go on, the watchdog ends it, `server stop` kills what spins; partial requests are dropped", async (t) => {
  const { dir, pids, children } = setup(t);
  const cache = join(dir, "cache");
  const found = makeOwnSnapshot(cache);
  const socket = serverSocketFor(found.blob);
  const work = join(dir, "work");
  mkdirSync(work);
  writeFileSync(join(work, "p.ts"), PROBE);
  // A build that never ends: its output is a FIFO nobody reads (the write blocks forever, as
  // Node's recursive mkdir of `-o /proc/x` spun forever).
  mkdirSync(join(work, "hang", "p"), { recursive: true });
  assert.equal(spawnSync("mkfifo", [join(work, "hang", "p", "p.elf")]).status, 0);
  const env = {
    ...process.env,
    XDG_CACHE_HOME: cache,
    TSBPF_SERVER: "1",
    TSBPF_DEBUG: "1",
    NO_COLOR: "1",
    CI: "",
    TSBPF_SERVER_IDLE: "120",
  };
  const node = (args: string[], extra = {}) =>
    launch(process.execPath, cache, [BIN, ...args], { CI: undefined, ...extra }, work);
  const statusPid = () => {
    const r = node(["server", "status", "--json"]);
    return (JSON.parse(r.stdout) as { pid: number } | null)?.pid;
  };

  const start = node(["server", "start"], {
    TSBPF_SERVER_BUILD_TIMEOUT: "3",
    TSBPF_SERVER_REQUEST_TIMEOUT: "1",
  });
  assert.equal(start.status, 0, start.stderr);
  const first = statusPid()!;
  pids.add(first);

  // A partial request is closed by the server, not held open.
  const closed = await new Promise<boolean>((resolve) => {
    const c = createConnection(socket);
    const guard = setTimeout(() => {
      c.destroy();
      resolve(false);
    }, 20_000);
    c.on("connect", () => c.write(Buffer.from([0x40, 0])));
    c.on("close", () => {
      clearTimeout(guard);
      resolve(true);
    });
    c.on("error", () => {});
  });
  assert.ok(closed, "the server held a partial request open");

  recordLaunch(found.blob, found.files, join(cache, "tsbpf"));
  const hung = run(LAUNCHER, ["build", "p.ts", "-o", "hang"], env, work, children);
  // wait until the server is in that build (it holds the FIFO open for writing)
  await until("the hung build", () => inFifoOpen(first), 60_000);
  // A later build is not blocked: the client withdraws and builds the ordinary way.
  recordLaunch(found.blob, found.files, join(cache, "tsbpf"));
  const later = await run(
    LAUNCHER,
    ["build", "p.ts", "-o", "later"],
    { ...env, TSBPF_SERVER_WAIT: "1" },
    work,
    children,
  );
  assert.equal(later.status, 0, later.stderr);
  assert.match(later.stderr, /did not start the build within 1 s: withdrawn/);
  assert.ok(existsSync(join(work, "later", "p", "p.elf")));
  // The watchdog ends the hung build: its client is told, the server is gone.
  const ended = await hung;
  assert.equal(ended.status, 1, ended.stderr);
  assert.match(ended.stderr, /ran longer than 3 s in the build server/);
  await until("the hung server's exit", () => !alive(first));

  // A server that answers but cannot finish (the build holds it): `server stop` does not say
  // "stopped" until the process is gone.
  const again = node(["server", "start"]);
  assert.equal(again.status, 0, again.stderr);
  const second = statusPid()!;
  pids.add(second);
  recordLaunch(found.blob, found.files, join(cache, "tsbpf"));
  const hung2 = run(LAUNCHER, ["build", "p.ts", "-o", "hang"], env, work, children);
  await until("the second hung build", () => inFifoOpen(second));
  const stop = node(["server", "stop"]);
  assert.equal(
    stop.stdout,
    `build server pid ${second} did not stop when asked (a build that never ends?): killed it\n`,
  );
  await until("the stopped server's exit", () => !alive(second));
  // Its client, told nothing, builds the ordinary way (exit 75 from tsbpf-client), which
  // blocks on the FIFO in its own terminal as it would without a server: ended here.
  process.kill(-children.at(-1)!.pid!, "SIGKILL");
  await hung2;
  assert.ok(!existsSync(socket) && !existsSync(`${socket}.pid`));
});

/** Whether a thread of process pid waits in open() of a FIFO for a reader (the hung build). */
function inFifoOpen(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/wchan`, "utf8") === "wait_for_partner";
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

test("the watchdog ends a process whose main thread never returns, telling the client", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-watchdog-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, "client");
  const r = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { openSync } from "node:fs";
       import { startWatchdog } from ${JSON.stringify(SERVER_JS)};
       const w = startWatchdog(1);
       w.begin(openSync(${JSON.stringify(out)}, "w"));
       for (;;) {}`,
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(r.signal, "SIGKILL", r.stderr);
  const bytes = readFileSync(out);
  assert.equal(bytes[0], 2); // a stderr frame …
  const len = bytes.readUInt32LE(1);
  assert.match(bytes.subarray(5, 5 + len).toString(), /ran longer than 1 s in the build server/);
  assert.deepEqual([...bytes.subarray(5 + len)], [3, 1, 0, 0, 0, 0x31]); // … and exit 1
});

test("an output directory that cannot be made is an error, not a hang (-o /proc/x)", async (t) => {
  await assert.rejects(makeDirectories("/proc/tsbpf-no-such/p"), /\/proc\/tsbpf-no-such.*ENOENT/);
  await assert.rejects(makeDirectories("/etc/passwd/p"), /ENOTDIR/);
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-outdir-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await makeDirectories(join(dir, "a", "b", "c"));
  assert.ok(statSync(join(dir, "a", "b", "c")).isDirectory());
  writeFileSync(join(dir, "p.ts"), PROBE);
  const r = spawnSync(process.execPath, [BIN, "build", "p.ts", "-o", "/proc/x"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, TSBPF_SERVER: "0", XDG_CACHE_HOME: join(dir, "cache") },
  });
  assert.equal(r.signal, null, "the build hung");
  assert.equal(r.status, 1);
  assert.match(r.stdout + r.stderr, /\/proc\/x/);
});
