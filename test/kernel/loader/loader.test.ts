// Loader in this process: tracepoints with ring buffer and perf events, tp_btf and raw_tp
// counting syscalls, uprobes on the fixture binaries, cgroup_skb, a socket filter, and map
// CRUD on loaded maps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, execFileSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  unlinkSync,
} from "node:fs";
import { createSocket } from "node:dgram";
import { randomBytes } from "node:crypto";
import { Loader, type Loaded } from "../../../src/load/loader.js";
import type { EventBatch } from "../../../src/reader/index.js";
import { native } from "../../../src/sys/native.js";
import { needsKernel } from "../../support/kernel.js";
import { linksOfProgram, programIdsNamed } from "../../support/bpftool.js";
import { fixture } from "../../support/fixtures.js";
import { u32, u64 } from "./helpers.js";

/** Events of `loaded` until `enough` says so, or fail after `ms`. */
async function collect(
  loaded: Loaded,
  enough: (events: { map: string; raw: Uint8Array }[]) => boolean,
  ms = 5000,
): Promise<{ map: string; raw: Uint8Array }[]> {
  const out: { map: string; raw: Uint8Array }[] = [];
  const it = loaded.events[Symbol.asyncIterator]();
  const deadline = Date.now() + ms;
  while (!enough(out)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`only ${out.length} events after ${ms} ms`);
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), left))),
    ]);
    clearTimeout(timer);
    if (r === "timeout") continue;
    if (r.done) throw new Error("events ended");
    const batch: EventBatch = r.value;
    for (const raw of batch.events) out.push({ map: batch.map, raw: raw.slice() });
  }
  return out;
}

const cstr = (b: Uint8Array) => Buffer.from(b.subarray(0, Math.max(0, b.indexOf(0)))).toString();

/** struct openat_event: pid, flags, comm[16], filename[256], seq. */
function openatEvent(raw: Uint8Array) {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    pid: dv.getUint32(0, true),
    flags: dv.getInt32(4, true),
    comm: cstr(raw.subarray(8, 24)),
    filename: cstr(raw.subarray(24, 280)),
    seq: dv.getBigUint64(280, true),
  };
}

for (const [file, mapType] of [
  ["tp_openat.o", "ring buffer"],
  ["perf_openat.o", "perf event array"],
] as const) {
  test(`tracepoint openat through the ${mapType}: our file, our pid`, async (t) => {
    if (!needsKernel(t)) return;
    await using loaded = await Loader.create()
      .options({ globals: { target_pid: process.pid } })
      .loadFile(fixture(file));
    assert.deepEqual(
      loaded.links.map((l) => [l.program.name, l.program.kindLabel, l.link.kind]),
      [[file.replace(".o", "_prog"), "TracePoint", "tracepoint"]],
    );
    const path = `/tmp/tsbpf-${randomBytes(6).toString("hex")}`;
    closeSync(openSync(path, "w", 0o600));
    try {
      const events = await collect(loaded, (evs) =>
        evs.some((e) => openatEvent(e.raw).filename === path),
      );
      assert.ok(events.every((e) => e.map === "events" && e.raw.length >= 288));
      const decoded = events.map((e) => openatEvent(e.raw));
      assert.ok(
        decoded.every((e) => e.pid === process.pid),
        "only our pid (target_pid)",
      );
      const ours = decoded.find((e) => e.filename === path)!;
      const O_WRONLY = 1,
        O_CREAT = 0o100,
        O_TRUNC = 0o1000;
      assert.equal(ours.flags & (O_WRONLY | O_CREAT | O_TRUNC), O_WRONLY | O_CREAT | O_TRUNC);
      assert.ok(ours.seq >= 1n);
      // Map reads on the loaded object: the counter and the .bss globals.
      assert.ok(u64(loaded.map("open_count").get(u32(0)))! >= BigInt(decoded.length));
      const bss = loaded.map(".bss").get(u32(0))!;
      assert.equal(bss.length, 16);
      assert.equal(u64(bss, 0), 0n, "nothing dropped/lost");
    } finally {
      unlinkSync(path);
    }
  });
}

for (const file of ["tp_btf.o", "raw_tp.o"]) {
  test(`${file} counts our getppid calls`, async (t) => {
    if (!needsKernel(t)) return;
    await using loaded = await Loader.create()
      .options({ globals: { target_pid: process.pid } })
      .loadFile(fixture(file));
    const count = loaded.map("syscall_count");
    const GETPPID = 110;
    const before = u64(count.get(u32(GETPPID))) ?? 0n;
    for (let i = 0; i < 25; i++) void process.ppid;
    assert.ok(u64(count.get(u32(GETPPID)))! - before >= 25n);
    const progId = loaded.links[0]!.program.info().id;
    assert.equal(linksOfProgram(progId).length, 1, "a bpf_link");
    loaded.close();
    assert.equal(linksOfProgram(progId).length, 0, "detached on close");
  });
}

/** struct uprobe_event: pid, kind, a, b, ret. */
function uprobeEvent(raw: Uint8Array) {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    kind: dv.getUint32(4, true),
    a: dv.getInt32(8, true),
    b: dv.getInt32(12, true),
    ret: Number(dv.getBigInt64(16, true)),
  };
}

for (const [binary, symbol, runner] of [
  ["uprobe_target", "tsbpf_probe_target", "uprobe_target"],
  ["libtsbpf_target.so", "tsbpf_lib_target", "uprobe_target_shared"],
] as const) {
  test(`Loader.uprobe: entry and return of ${symbol} in ${binary}`, async (t) => {
    if (!needsKernel(t)) return;
    await using loaded = await Loader.create()
      .uprobe(fixture(binary), { symbol })
      .loadFile(fixture("uprobe.o"));
    assert.deepEqual(loaded.links.map((l) => [l.program.name, l.link.kind]).sort(), [
      ["uprobe_entry", "uprobe"],
      ["uprobe_return", "uretprobe"],
    ]);
    const run = spawnSync(fixture(runner), ["5"], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const events = (await collect(loaded, (e) => e.length >= 10)).map((e) => uprobeEvent(e.raw));
    const entries = events.filter((e) => e.kind === 0).map((e) => [e.a, e.b]);
    const returns = events.filter((e) => e.kind === 1).map((e) => e.ret);
    assert.deepEqual(
      entries,
      [1, 2, 3, 4, 5].map((i) => [i, 10 * i]),
    );
    assert.deepEqual(returns, [17, 47, 97, 167, 257]);
    const hits = loaded.map("hits");
    assert.deepEqual([u64(hits.get(u32(0))), u64(hits.get(u32(1)))], [5n, 5n]);
  });
}

function cgroup2Root(): string | undefined {
  return /^\S+ (\S+) cgroup2 /m.exec(readFileSync("/proc/mounts", "utf8"))?.[1];
}

test("Loader.cgroup: cgroup_skb counts a member's loopback packets both ways", async (t) => {
  if (!needsKernel(t, cgroup2Root() ? undefined : "no cgroup2 mount")) return;
  const cg = `${cgroup2Root()}/tsbpf-loader-${process.pid}`;
  mkdirSync(cg);
  try {
    await using loaded = await Loader.create().cgroup(cg).loadFile(fixture("cgroup_skb.o"));
    assert.deepEqual(loaded.links.map((l) => l.program.name).sort(), [
      "cgroup_egress",
      "cgroup_ingress",
    ]);
    const r = spawnSync(
      "sh",
      ["-c", `echo $$ > ${cg}/cgroup.procs && exec ping -c 3 -i 0.2 -W 1 127.0.0.1`],
      {
        encoding: "utf8",
      },
    );
    assert.match(r.stdout, /3 received/, r.stdout + r.stderr);
    const stats = loaded.map("cg_stats");
    assert.ok(u64(stats.get(u32(1)))! >= 3n, "egress");
    assert.ok(u64(stats.get(u32(0)))! >= 3n, "ingress");
  } finally {
    for (let i = 0; i < 50 && existsSync(cg); i++) {
      try {
        rmdirSync(cg);
      } catch {
        execFileSync("sleep", ["0.05"]);
      }
    }
  }
});

test("Loader.attachOptions: socket filter on our UDP socket counts datagrams", async (t) => {
  if (!needsKernel(t)) return;
  const n = native();
  const fd = n.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
  assert.ok(fd >= 0);
  try {
    const port = bindLoopback(fd);
    await using loaded = await Loader.create()
      .attachOptions("socket_count", { socket: fd })
      .loadFile(fixture("socket_filter.o"));
    const s = createSocket("udp4");
    for (let i = 0; i < 4; i++)
      await new Promise<void>((res, rej) =>
        s.send(Buffer.alloc(10), port, "127.0.0.1", (e) => (e ? rej(e) : res())),
      );
    s.close();
    await new Promise((r) => setTimeout(r, 50));
    const v = loaded.map("sock_stats").get(u32(0))!;
    assert.equal(u64(v, 0), 4n);
    // UDP runs socket filters after pulling the IP header: skb->len = UDP header + payload.
    assert.equal(u64(v, 8), 4n * (10n + 8n));
  } finally {
    n.close(fd);
  }
});

/** Binds a UDP socket fd to 127.0.0.1 on a free port and returns the port. */
function bindLoopback(fd: number): number {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const sa = new Uint8Array(16);
    const dv = new DataView(sa.buffer);
    dv.setUint16(0, 2 /* AF_INET */, true);
    dv.setUint16(2, port, false);
    sa.set([127, 0, 0, 1], 4);
    if (native().bind(fd, sa) === 0) return port;
  }
  throw new Error("no free UDP port on 127.0.0.1");
}

test("map CRUD on a loaded object's maps, and bad names say what exists", async (t) => {
  if (!needsKernel(t)) return;
  await using loaded = await Loader.create().loadFile(fixture("raw_tp.o"));
  const m = loaded.map("syscall_count");
  const k = u32(4242);
  const v = new Uint8Array(8).fill(7);
  m.set(k, v, "noexist");
  assert.deepEqual(m.get(k), v);
  assert.throws(() => m.set(k, v, "noexist"), /EEXIST/);
  m.set(k, new Uint8Array(8).fill(9), "exist");
  assert.deepEqual(m.get(k), new Uint8Array(8).fill(9));
  assert.ok([...m].some(([key]) => Buffer.from(key).equals(Buffer.from(k))));
  assert.equal(m.delete(k), true);
  assert.equal(m.get(k), undefined);
  assert.equal(m.delete(k), false);
  assert.throws(() => loaded.map("nope"), /no map named nope \(the object has: .*syscall_count/);
  assert.throws(
    () => loaded.program("nope"),
    /no program named nope \(the object has: raw_tp_sys_enter\)/,
  );
  await assert.rejects(
    Loader.create().skip("nope").loadFile(fixture("raw_tp.o")),
    /no program named nope/,
  );
});

test("Loader: an XDP object without an interface is refused before anything stays loaded", async (t) => {
  if (!needsKernel(t)) return;
  const before = programIdsNamed("xdp_count_prog").length;
  await assert.rejects(
    Loader.create().loadFile(fixture("xdp_count.o")),
    /XDP program xdp_count_prog needs an interface: pass -i IFACE/,
  );
  assert.equal(programIdsNamed("xdp_count_prog").length, before, "the program was unloaded");
});
