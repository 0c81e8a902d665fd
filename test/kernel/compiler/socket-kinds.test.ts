// The program kinds of tsbpf/probe's socket-kinds.ts, compiled from TypeScript and run for
// real: perf_event on the software cpu-clock event (the sample period the probe reads is the
// one the event was opened with), sockops on a cgroup this test creates (TCP connects over
// loopback in a netns of its own: the ops and the host-order ports/addresses the probe saw),
// sk_msg and sk_skb redirecting between loopback sockets stored in a SockMap from user space
// (by socket fd), a task iterator (iter/task) finding this process, and an LSM program denying
// one process's file opens (where the kernel has BPF LSM and can attach trampolines).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { featureMissing, needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable } from "../../support/netns.js";
import { Collection } from "../../../src/load/collection.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { attachPerfEvent, attachCgroup, attachSockMap } from "../../../src/link/index.js";
import type { IterLink } from "../../../src/link/iter.js";
import { AttachType } from "../../../src/obj/consts.js";
import { onlineCpus } from "../../../src/sys/cpus.js";
import { struct, u32, u64 } from "../../../src/types/index.js";
import { compileSource } from "../../unit/compiler/support.js";

const IMPORTS =
  'import { perfEvent, lsm, sockops, skSkb, skMsg, SockMap, SockHash, SockOpsOp, config, kernelPtr, comm } from "tsbpf/probe";\n';

const key = (n: number) => u32.encode(n) as never;

// ------------------------------------------------------------------------------ perf_event

const PERF = `${IMPORTS}
const Sample = struct("Sample", { n: u64, period: u64, withIp: u64 });
const samples = map("samples", new ArrayMap(Sample, { maxEntries: 1024 }));
export const on_sample = perfEvent((ctx) => {
  const s = samples.get(smpProcessorId());
  if (!s) return 0;
  s.n += 1n;
  s.period = ctx.samplePeriod;
  if (ctx.ip() !== 0n) s.withIp += 1n;
  return 0;
});
`;
const Sample = struct("Sample", { n: u64, period: u64, withIp: u64 });

test("perfEvent from TypeScript: cpu-clock samples on every CPU, the period and sampled ip", async (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(PERF).elf);
  const cpus = onlineCpus();
  const sample = (cpu: number) =>
    Sample.decode(coll.maps.get("samples")!.get(key(cpu)) as Uint8Array);
  {
    // every 1 ms of CPU clock (cpu-clock ticks on idle CPUs too)
    using _link = attachPerfEvent(coll.programs.get("on_sample")!, { samplePeriod: 1_000_000 });
    while (!cpus.every((c) => sample(c).n > 0n)) await sleep(20);
  }
  for (const c of cpus) {
    const s = sample(c);
    assert.equal(s.period, 1_000_000n, `CPU ${c}: ctx.samplePeriod is the event's period`);
    assert.equal(s.withIp, s.n, `CPU ${c}: every sample has an instruction pointer`);
  }
  const before = cpus.map((c) => sample(c).n);
  await sleep(50);
  assert.deepEqual(
    cpus.map((c) => sample(c).n),
    before,
    "no samples after the link closed",
  );
});

// --------------------------------------------------------------------------------- sockops

const SOCKOPS = `${IMPORTS}
const Conn = struct("Conn", { localPort: u32, remotePort: u32, localIp: u32, remoteIp: u32, family: u32, updated: u32 });
const seen = map("seen", new ArrayMap(u64, { maxEntries: 16 }));
const conns = map("conns", new ArrayMap(Conn, { maxEntries: 16 }));
const Tuple = struct("Tuple", { local: u32, remote: u32 });
const socks = map("socks", new SockHash(Tuple, { maxEntries: 16 }));
export const on_sockops = sockops((ctx) => {
  const op = ctx.op;
  if (op >= 16) return 1;
  seen.add(op, 1n);
  if (op === SockOpsOp.ActiveEstablished || op === SockOpsOp.PassiveEstablished) {
    const r = socks.update(ctx, { local: ctx.localPort, remote: ctx.remotePort });
    conns.set(op, {
      localPort: ctx.localPort,
      remotePort: ctx.remotePort,
      localIp: ctx.localIp4,
      remoteIp: ctx.remoteIp4,
      family: ctx.family,
      updated: r === 0 ? 1 : 0,
    });
  }
  return 1;
});
`;
const Conn = struct("Conn", {
  localPort: u32,
  remotePort: u32,
  localIp: u32,
  remoteIp: u32,
  family: u32,
  updated: u32,
});

/** In the cgroup and the netns: a server on 127.0.0.1, one connection to it; the ports. */
const CONNECT = `
const net = require("node:net");
const srv = net.createServer((c) => c.end());
srv.listen(0, "127.0.0.1", () => {
  const c = net.connect(srv.address().port, "127.0.0.1", () => {
    console.log(JSON.stringify({ client: c.localPort, server: srv.address().port }));
    c.destroy();
    srv.close();
  });
});
`;

function cgroup2Root(): string | undefined {
  return /^\S+ (\S+) cgroup2 /m.exec(readFileSync("/proc/mounts", "utf8"))?.[1];
}

function removeCgroup(cg: string): void {
  for (let i = 0; i < 50 && existsSync(cg); i++) {
    try {
      rmdirSync(cg);
    } catch {
      spawnSync("sleep", ["0.05"]);
    }
  }
}

test("sockops from TypeScript: a TCP connect over loopback in the test's cgroup and netns", (t) => {
  const root = cgroup2Root();
  if (!needsKernel(t, root ? netnsUnavailable() : "no cgroup2 mount")) return;
  using coll = Collection.load(compileSource(SOCKOPS).elf);
  using net = createNetnsPair();
  net.exec("a", "ip", ["link", "set", "lo", "up"]);
  const cg = `${root}/tsbpf-sockops-${process.pid}`;
  mkdirSync(cg);
  try {
    const ports = (() => {
      using _link = attachCgroup(coll.programs.get("on_sockops")!, cg, AttachType.CGROUP_SOCK_OPS);
      const r = spawnSync(
        "sh",
        [
          "-c",
          `echo $$ > ${cg}/cgroup.procs && exec ip netns exec ${net.nsA} "${process.execPath}" -e '${CONNECT}'`,
        ],
        { encoding: "utf8", timeout: 60_000 },
      );
      assert.equal(r.status, 0, `client failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as { client: number; server: number };
    })();
    const seen = (op: number) => u64.decode(coll.maps.get("seen")!.get(key(op)) as Uint8Array);
    const conn = (op: number) => Conn.decode(coll.maps.get("conns")!.get(key(op)) as Uint8Array);
    for (const op of [3, 4, 5]) assert.ok(seen(op) >= 1n, `op ${op} seen (${seen(op)} times)`);
    const LOOPBACK = 0x7f000001;
    assert.deepEqual(conn(4), {
      localPort: ports.client,
      remotePort: ports.server,
      localIp: LOOPBACK,
      remoteIp: LOOPBACK,
      family: 2,
      updated: 1,
    });
    assert.deepEqual(conn(5), {
      localPort: ports.server,
      remotePort: ports.client,
      localIp: LOOPBACK,
      remoteIp: LOOPBACK,
      family: 2,
      updated: 1,
    });
  } finally {
    removeCgroup(cg);
  }
});

const BYPASS = `${IMPORTS}
const Ports = struct("Ports", { local: u32, remote: u32 });
const socks = map("socks", new SockHash(Ports, { maxEntries: 64 }));
const Seen = struct("Seen", { msgs: u64, bytes: u64, redirected: u64 });
const seen = map("seen", new ArrayMap(Seen, { maxEntries: 1 }));
export const track = sockops((ctx) => {
  if (ctx.op === SockOpsOp.ActiveEstablished || ctx.op === SockOpsOp.PassiveEstablished)
    socks.update(ctx, { local: ctx.localPort, remote: ctx.remotePort });
  return 1;
});
/** A message goes straight into the receive queue of the socket whose ports mirror its own. */
export const bypass = skMsg((ctx) => {
  const v = socks.redirect(ctx, { local: ctx.remotePort, remote: ctx.localPort }, { ingress: true });
  const s = seen.get(0);
  if (s) {
    s.msgs += 1n;
    s.bytes += BigInt(ctx.size);
    if (v === SkAction.Pass) s.redirected += 1n;
  }
  return v;
});
`;

/** In the cgroup and the netns: the client writes once the server has accepted; what arrived. */
const PING = `
const net = require("node:net");
const srv = net.createServer((s) => {
  s.setEncoding("utf8");
  let got = "";
  s.on("data", (d) => {
    got += d;
    if (got.length >= 4) { console.log(JSON.stringify({ got })); s.destroy(); c.destroy(); srv.close(); }
  });
  c.write("ping");
});
let c;
srv.listen(0, "127.0.0.1", () => { c = net.connect(srv.address().port, "127.0.0.1"); });
`;

test("sockops fills a SockHash, skMsg redirects by key: a loopback TCP message bypasses the stack", (t) => {
  const root = cgroup2Root();
  if (!needsKernel(t, root ? netnsUnavailable() : "no cgroup2 mount")) return;
  using coll = Collection.load(compileSource(BYPASS).elf);
  using net = createNetnsPair();
  net.exec("a", "ip", ["link", "set", "lo", "up"]);
  const cg = `${root}/tsbpf-bypass-${process.pid}`;
  mkdirSync(cg);
  try {
    const got = (() => {
      using _ops = attachCgroup(coll.programs.get("track")!, cg, AttachType.CGROUP_SOCK_OPS);
      using _msg = coll.programs.get("bypass")!.attach({ sockMap: coll.maps.get("socks")! });
      const r = spawnSync(
        "sh",
        [
          "-c",
          `echo $$ > ${cg}/cgroup.procs && exec ip netns exec ${net.nsA} "${process.execPath}" -e '${PING}'`,
        ],
        { encoding: "utf8", timeout: 60_000 },
      );
      assert.equal(r.status, 0, `client failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as { got: string };
    })();
    assert.deepEqual(got, { got: "ping" });
    const s = Seen.decode(coll.maps.get("seen")!.get(key(0)) as Uint8Array);
    assert.deepEqual(s, { msgs: 1n, bytes: 4n, redirected: 1n });
  } finally {
    removeCgroup(cg);
  }
});

// ----------------------------------------------------------------------- sk_msg and sk_skb

/** The fd of a connected net.Socket (libuv's handle; Linux). */
function fdOf(s: Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  assert.ok(typeof fd === "number" && fd >= 0, "socket fd");
  return fd;
}

/** Two TCP connections over 127.0.0.1: [client, accepted] each. */
async function twoConnections(): Promise<{ server: Server; pairs: [Socket, Socket][] }> {
  const accepted: Socket[] = [];
  const server = createServer((s) => accepted.push(s));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const pairs: [Socket, Socket][] = [];
  for (let i = 0; i < 2; i++) {
    const c = createConnection(port, "127.0.0.1");
    await once(c, "connect");
    while (accepted.length <= i) await sleep(5);
    pairs.push([c, accepted[i]!]);
  }
  return { server, pairs };
}

/** What `s` receives until `n` bytes arrived (the test runner's timeout bounds the wait). */
async function receive(s: Socket, n: number): Promise<string> {
  let got = "";
  s.setEncoding("utf8");
  for await (const chunk of s) {
    got += chunk as string;
    if (got.length >= n) break;
  }
  return got;
}

const SKMSG = `${IMPORTS}
const socks = map("socks", new SockMap({ maxEntries: 4 }));
const Seen = struct("Seen", { msgs: u64, bytes: u64, redirected: u64 });
const seen = map("seen", new ArrayMap(Seen, { maxEntries: 1 }));
/** Every message a socket at index 0 sends goes to the receive queue of the socket at 1. */
export const to_peer = skMsg((ctx) => {
  const s = seen.get(0);
  const v = socks.redirect(ctx, 1, { ingress: true });
  if (s) {
    s.msgs += 1n;
    s.bytes += BigInt(ctx.size);
    if (v === SkAction.Pass) s.redirected += 1n;
  }
  return v;
});
`;
const Seen = struct("Seen", { msgs: u64, bytes: u64, redirected: u64 });

test("skMsg + SockMap from TypeScript: a message sent on one connection arrives on another", async (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(SKMSG).elf);
  const socks = coll.maps.get("socks")!;
  const { server, pairs } = await twoConnections();
  const [[c1, s1], [c2, s2]] = pairs;
  try {
    using _link = coll.programs.get("to_peer")!.attach({ sockMap: socks });
    socks.set(key(0), u32.encode(fdOf(c1)) as never);
    socks.set(key(1), u32.encode(fdOf(c2)) as never);
    let s1got = "";
    let s2got = "";
    s1.on("data", (d) => (s1got += String(d)));
    s2.on("data", (d) => (s2got += String(d)));
    const arrived = receive(c2, 5);
    c1.write("hello");
    // c2 receives what c1 sent, as if its peer had sent it; c1's peer gets nothing
    assert.equal(await arrived, "hello");
    assert.equal(s1got + s2got, "");
    const s = Seen.decode(coll.maps.get("seen")!.get(key(0)) as Uint8Array);
    assert.deepEqual(s, { msgs: 1n, bytes: 5n, redirected: 1n });
  } finally {
    for (const s of pairs.flat()) s.destroy();
    server.close();
  }
});

const SKSKB = `${IMPORTS}
const socks = map("socks", new SockMap({ maxEntries: 4 }));
const Tuple = struct("Tuple", { a: u32, b: u32 });
const unused = map("byport", new SockHash(Tuple, { maxEntries: 4 }));
export const parser = skSkb("stream_parser", (ctx) => ctx.len);
/** What the socket at index 0 receives is sent out by the socket at index 1. */
export const verdict = skSkb("stream_verdict", (ctx) => socks.redirect(ctx, 1));
`;

test("skSkb stream parser + verdict from TypeScript: received bytes are sent on by another socket", async (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(SKSKB).elf);
  const socks = coll.maps.get("socks")!;
  const { server, pairs } = await twoConnections();
  const [[c1, s1], [c2, s2]] = pairs;
  try {
    using _p = attachSockMap(coll.programs.get("parser")!, socks, AttachType.SK_SKB_STREAM_PARSER);
    using _v = attachSockMap(
      coll.programs.get("verdict")!,
      socks,
      AttachType.SK_SKB_STREAM_VERDICT,
    );
    socks.set(key(0), u32.encode(fdOf(s1)) as never);
    socks.set(key(1), u32.encode(fdOf(c2)) as never);
    let s1got = "";
    s1.on("data", (d) => (s1got += String(d)));
    const arrived = receive(s2, 5);
    c1.write("hello");
    // s1 received "hello" from c1; the verdict sent it out of c2, so s2 (c2's peer) reads it
    assert.equal(await arrived, "hello");
    assert.equal(s1got, "");
  } finally {
    for (const s of pairs.flat()) s.destroy();
    server.close();
  }
  // attach() without a map names the option (the Loader passes an object's only socket map;
  // this object has two)
  const err = (() => {
    try {
      coll.programs.get("parser")!.attach();
    } catch (e) {
      return e as Error;
    }
  })();
  assert.match(String(err?.message), /needs a SockMap or SockHash: pass \{ sockMap: map \}/);
});

// ------------------------------------------------------------------------------- task iter

const DECLS = fileURLToPath(
  new URL("../../../../test/fixtures/probes/kernel-types/vmlinux-6.18.d.ts", import.meta.url),
);

const TASK_ITER = `import { program, map, iter, kernelPtr, HashMap, ArrayMap } from "tsbpf/probe";
import { struct, u32, u64 } from "tsbpf/types";
import type { task_struct } from "./vmlinux.js";
const Task = struct("Task", { pid: u32, tgid: u32, ppid: u32 });
const tasks = map("tasks", new HashMap(u32, Task, { maxEntries: 65536 }));
const count = map("count", new ArrayMap(u64, { maxEntries: 1 }));
program({ license: "GPL" });
export const each_task = iter("task", (ctx) => {
  const task = kernelPtr<task_struct | null>(ctx.arg(1));
  if (!task) return 0;
  count.add(0, 1n);
  tasks.set(task.pid, { pid: task.pid, tgid: task.tgid, ppid: task.real_parent.tgid });
  return 0;
});
`;

test("iter/task from TypeScript: one run per task, this process among them", (t) => {
  if (!needsKernel(t)) return;
  const dir = `/tmp/tsbpf-virtual/task-iter`;
  const compiled = compileProbe(`${dir}/probe.ts`, {
    sources: new Map([
      [`${dir}/probe.ts`, TASK_ITER],
      [`${dir}/vmlinux.d.ts`, readFileSync(DECLS, "utf8")],
    ]),
  });
  using coll = Collection.load(compiled.elf);
  const link = coll.programs.get("each_task")!.attach() as IterLink;
  try {
    link.read();
  } finally {
    link.close();
  }
  const Task = struct("Task", { pid: u32, tgid: u32, ppid: u32 });
  const me = coll.maps.get("tasks")!.get(key(process.pid));
  assert.ok(me, "this process's main thread was iterated");
  assert.deepEqual(Task.decode(me as Uint8Array), {
    pid: process.pid,
    tgid: process.pid,
    ppid: process.ppid,
  });
  const n = u64.decode(coll.maps.get("count")!.get(key(0)) as Uint8Array);
  const threads = readFileSync(`/proc/${process.pid}/status`, "utf8").match(/^Threads:\s+(\d+)/m);
  assert.ok(n >= BigInt(threads?.[1] ?? 1), `${n} tasks iterated`);
});

// ------------------------------------------------------------------------------------- lsm

/** Why this kernel cannot run a BPF LSM program, or undefined. */
function lsmMissing(): string | undefined {
  const r = spawnSync(
    "unshare",
    [
      "-m",
      "sh",
      "-c",
      "mount -t securityfs none /sys/kernel/security 2>/dev/null; cat /sys/kernel/security/lsm",
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) return `cannot read the LSM list: ${r.stderr.trim()}`;
  if (!r.stdout.split(",").includes("bpf"))
    return `bpf is not in this kernel's LSM list (${r.stdout.trim()}): boot with lsm=...,bpf`;
  return featureMissing("fentry"); // BPF LSM programs attach through trampolines, as fentry
}

const LSM = `${IMPORTS}
const target = config("target", u32, 0);
const denied = map("denied", new ArrayMap(u64, { maxEntries: 1 }));
/** The target process may open no file. */
export const no_open = lsm("file_open", (ctx) => {
  if (toNumber(pidTgid() >> 32n) !== target.value) return 0;
  denied.add(0, 1n);
  return -1;
});
`;

test("lsm from TypeScript: file_open denied to one process (EPERM), allowed to others", async (t) => {
  if (!needsKernel(t, { feature: "fentry", minKernel: "5.7" })) return;
  const missing = lsmMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  const child = spawn(
    process.execPath,
    [
      "-e",
      `process.stdin.once("data", () => { try { require("fs").closeSync(require("fs").openSync(process.execPath, "r")); console.log("opened"); } catch (e) { console.log(e.code); } process.exit(0); });`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  try {
    await once(child, "spawn");
    const compiled = compileSource(LSM);
    using coll = Collection.load(compiled.elf, { globals: { target: child.pid! } });
    using _link = coll.programs.get("no_open")!.attach();
    let out = "";
    child.stdout!.on("data", (d) => (out += String(d)));
    child.stdin!.write("go\n");
    await once(child, "exit");
    assert.equal(out.trim(), "EPERM");
    closeSync(openSync(process.execPath, "r")); // this process may (a file every machine has)
    const n = u64.decode(coll.maps.get("denied")!.get(key(0)) as Uint8Array);
    assert.ok(n >= 1n, `denials counted (${n})`);
  } finally {
    child.kill();
  }
});

test("lsm: a hook the kernel lacks is named before loading, with where hooks come from", (t) => {
  if (!needsKernel(t)) return;
  const src = `${IMPORTS}export const p = lsm("no_such_hook", () => 0);\n`;
  assert.throws(
    () => Collection.load(compileSource(src).elf),
    /the kernel has no LSM hook no_such_hook to attach to \(section lsm\/no_such_hook; hooks are the bpf_lsm_\* functions/,
  );
});

// ------------------------------------------------------------------------- the docs' example

test("docs/probe-language.md: the profiler, LSM and socket example compiles and loads", (t) => {
  if (!needsKernel(t)) return;
  const doc = readFileSync(
    fileURLToPath(new URL("../../../../docs/probe-language.md", import.meta.url)),
    "utf8",
  );
  const section = doc.slice(doc.indexOf("<!-- example: socket-kinds-doc"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, "the section's example");
  const src = `${IMPORTS}
const Comm = struct("Comm", { comm: array(u8, 16) });
type Comm = Infer<typeof Comm>;
const Ports = struct("Ports", { local: u32, remote: u32 });
const target = config("target", u32, 0);
${code}`;
  const compiled = compileSource(src);
  assert.deepEqual(compiled.programs.map((p) => p.section).sort(), [
    "lsm/file_open",
    "perf_event",
    "sk_msg",
    "sockops",
  ]);
  // the LSM program loads where the kernel can attach trampolines (lsm test above)
  const programs = ["profile", "track", "bypass", ...(lsmMissing() ? [] : ["no_open"])];
  using coll = Collection.load(compiled.elf, { programs });
  assert.deepEqual([...coll.programs.keys()].sort(), [...programs].sort());
});
