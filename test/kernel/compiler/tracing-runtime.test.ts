// TypeScript tracing probes attached for real: tp_btf programs fire on the syscalls this test
// makes and their values arrive in JS; getStackId stores a kernel stack that user space reads
// from the stack trace map and resolves to kernel functions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, unlinkSync, constants } from "node:fs";
import { needsKernel } from "../../support/kernel.js";
import { Collection } from "../../../src/load/collection.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { attachTpBtf } from "../../../src/link/tp-btf.js";
import { attachTracepoint } from "../../../src/link/tracepoint.js";
import { struct, u32, u64 } from "../../../src/types/index.js";
import { compileSource } from "../../unit/compiler/support.js";

const Exec = struct("Exec", { tgid: u32, oldPid: u32, ns: u64 });
const Config = struct("Config", { tgid: u32 });
const Count = struct("Count", { n: u64 });
const Stack = struct("Stack", { id: u64, tgid: u32, pad: u32 });

const TP_BTF = `
const Exec = struct("Exec", { tgid: u32, oldPid: u32, ns: u64 });
const Config = struct("Config", { tgid: u32 });
const Count = struct("Count", { n: u64 });
const config = map("config", new ArrayMap(Config, { maxEntries: 1 }));
const execs = map("execs", new RingBuf(Exec, { maxEntries: 4096 }));
const calls = map("calls", new HashMap(u32, Count, { maxEntries: 512 }));

/** Every exec: who (the new image's tgid) and the pid before the exec (arg 1 of the event). */
export const on_exec = tpBtf("sched_process_exec", (ctx) => {
  const ev = execs.reserve();
  if (!ev) return 0;
  ev.tgid = toNumber(pidTgid() >> 32n);
  ev.oldPid = toNumber(ctx.arg(1) & 0xffffffffn);
  ev.ns = ktimeGetNs();
  execs.submit(ev);
  return 0;
});

/** Syscalls of the configured process, counted by number (arg 1 of sys_enter). */
export const on_sys_enter = tpBtf("sys_enter", (ctx) => {
  const cfg = config.get(0);
  if (!cfg || cfg.tgid !== toNumber(pidTgid() >> 32n)) return 0;
  const nr = toNumber(ctx.arg(1) & 0xffffffffn);
  const c = calls.get(nr);
  if (c) {
    atomicAdd(c, "n", 1);
    return 0;
  }
  calls.set(nr, { n: 1n });
  return 0;
});
`;

test("tp_btf probes fire for real: the exec this test spawns and its own syscalls arrive in JS", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(TP_BTF).elf);
  coll.maps
    .get("config")!
    .set(u32.encode(0) as never, Config.encode({ tgid: process.pid }) as never);
  using ring = RingBufReader.open(coll.maps.get("execs")!);
  let child: number;
  const path = `/tmp/tsbpf-tpbtf-${process.pid}`;
  {
    using _exec = attachTpBtf(coll.programs.get("on_exec")!, "sched_process_exec");
    using _sys = attachTpBtf(coll.programs.get("on_sys_enter")!, "sys_enter");
    const r = spawnSync("/bin/true");
    assert.equal(r.status, 0);
    child = r.pid;
    closeSync(openSync(path, constants.O_CREAT | constants.O_RDWR, 0o600));
    unlinkSync(path);
  }
  const execs = ring.readBatch().map((b) => Exec.decode(b));
  const mine = execs.find((e) => e.oldPid === child);
  assert.ok(mine, `the exec of pid ${child} reported (got ${execs.length} events)`);
  assert.equal(mine.tgid, child, "the exec'd image runs as the same tgid");
  assert.ok(mine.ns > 0n);
  // x86-64 syscall numbers: openat 257, unlink 87, close 3.
  const calls = coll.maps.get("calls")!;
  const count = (nr: number) => {
    const v = calls.get(u32.encode(nr) as never) as Uint8Array | undefined;
    return v ? Count.decode(v).n : 0n;
  };
  assert.ok(count(257) >= 1n, `openat counted (${count(257)})`);
  assert.ok(count(87) >= 1n, `unlink counted (${count(87)})`);
  assert.equal(count(9999), 0n);
});

const STACKS = `
import { program, map, tracepoint, ArrayMap, StackTraceMap, pidTgid, toNumber, toBigInt } from "tsbpf/probe";
import { struct, u32, u64, i32 } from "tsbpf/types";
program({ license: "GPL" });
const Config = struct("Config", { tgid: u32 });
const Stack = struct("Stack", { id: u64, tgid: u32, pad: u32 });
const OpenatArgs = struct("OpenatArgs", { nr: i32, dfd: u64, filename: u64, flags: u64, mode: u64 });
/** sched_process_fork's fields differ between kernels (fixed arrays, then __data_loc): unread. */
const ForkArgs = struct("ForkArgs", { unread: u32 });
const config = map("config", new ArrayMap(Config, { maxEntries: 1 }));
/**
 * One map per kind of stack, with BPF_F_REUSE_STACKID (1024): a stack hashing to a taken
 * bucket replaces it instead of failing with -EEXIST, so the last call's id is always valid.
 */
const kstacks = map("kstacks", new StackTraceMap({ maxEntries: 256 }));
const ustacks = map("ustacks", new StackTraceMap({ maxEntries: 256 }));
/** [0] the kernel stack of a fork, [1] the user stack of an openat */
const last = map("last", new ArrayMap(Stack, { maxEntries: 2 }));

function record(slot: number, id: number, tgid: number): void {
  const s = last.get(slot);
  if (s) {
    s.id = toBigInt(id);
    s.tgid = tgid;
  }
}

/** The kernel stack of the configured process forking. */
export const on_fork = tracepoint("sched", "sched_process_fork", ForkArgs, (ctx) => {
  const cfg = config.get(0);
  const tgid = toNumber(pidTgid() >> 32n);
  if (cfg && cfg.tgid === tgid) record(0, kstacks.getStackId(ctx, 1024), tgid);
  return 0;
});

/**
 * The user stack of its openat calls (BPF_F_USER_STACK, 256). Syscall tracepoints carry the
 * user-mode registers of the call: a kernel stack taken there is empty on 6.1 (-EFAULT).
 */
export const on_openat = tracepoint("syscalls", "sys_enter_openat", OpenatArgs, (ctx) => {
  const cfg = config.get(0);
  const tgid = toNumber(pidTgid() >> 32n);
  if (cfg && cfg.tgid === tgid) record(1, ustacks.getStackId(ctx, 256 | 1024), tgid);
  return 0;
});
`;

/** The kernel symbol each address falls in (from /proc/kallsyms; root sees the addresses). */
function symbolize(addrs: bigint[]): string[] {
  const syms = readFileSync("/proc/kallsyms", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f.length >= 3 && /^[tTwW]$/.test(f[1]!))
    .map((f) => ({ at: BigInt(`0x${f[0]}`), name: f[2]! }))
    .filter((s) => s.at !== 0n)
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return addrs.map((a) => {
    let lo = 0;
    let hi = syms.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (syms[mid]!.at <= a) lo = mid;
      else hi = mid - 1;
    }
    return syms[lo] && syms[lo]!.at <= a ? syms[lo]!.name : "?";
  });
}

/** The executable mapping of this process each address falls in ("?" outside all of them). */
function userMappings(addrs: bigint[]): string[] {
  const maps = readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .map((l) => /^([0-9a-f]+)-([0-9a-f]+) r-xp \S+ \S+ \S+\s*(.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ lo: BigInt(`0x${m[1]}`), hi: BigInt(`0x${m[2]}`), path: m[3] || "[anon]" }));
  return addrs.map((a) => maps.find((m) => a >= m.lo && a < m.hi)?.path ?? "?");
}

/** The frames (instruction pointers) of stack `slot` the probe recorded. */
function frames(coll: Collection, slot: number): bigint[] {
  const last = Stack.decode(coll.maps.get("last")!.get(u32.encode(slot) as never) as Uint8Array);
  assert.equal(last.tgid, process.pid, `stack ${slot}: the probe ran for this process`);
  const id = BigInt.asIntN(64, last.id);
  assert.ok(id >= 0n, `stack ${slot}: getStackId returned an id, not an errno (${id})`);
  const map = coll.maps.get(slot === 0 ? "kstacks" : "ustacks")!;
  const raw = map.get(u32.encode(Number(id)) as never) as Uint8Array;
  assert.equal(raw.byteLength, 127 * 8);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const ips: bigint[] = [];
  for (let i = 0; i < 127; i++) {
    const ip = view.getBigUint64(i * 8, true);
    if (ip === 0n) break;
    ips.push(ip);
  }
  return ips;
}

test("getStackId stores kernel and user stacks; user space reads and resolves their frames", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(STACKS, { raw: true }).elf);
  coll.maps
    .get("config")!
    .set(u32.encode(0) as never, Config.encode({ tgid: process.pid }) as never);
  const path = `/tmp/tsbpf-stack-${process.pid}`;
  {
    using _fork = attachTracepoint(coll.programs.get("on_fork")!, "sched", "sched_process_fork");
    using _open = attachTracepoint(coll.programs.get("on_openat")!, "syscalls", "sys_enter_openat");
    assert.equal(spawnSync("/bin/true").status, 0);
    closeSync(openSync(path, constants.O_CREAT | constants.O_RDWR, 0o600));
    unlinkSync(path);
  }
  const kernel = frames(coll, 0);
  assert.ok(kernel.length >= 2, `a kernel stack of ${kernel.length} frames`);
  for (const ip of kernel)
    assert.ok(ip >= 0xffff800000000000n, `kernel address ${ip.toString(16)}`);
  const names = symbolize(kernel);
  assert.ok(
    names.some((n) => /clone|fork/.test(n)),
    `the clone path among the frames: ${names.join(" <- ")}`,
  );
  const user = frames(coll, 1);
  assert.ok(user.length >= 1, "a user stack");
  const where = userMappings(user);
  assert.notEqual(
    where[0],
    "?",
    `the openat call site is in an executable mapping: ${where.join(" <- ")}`,
  );
  assert.ok(user[0]! < 0x800000000000n, `user address ${user[0]!.toString(16)}`);
});
