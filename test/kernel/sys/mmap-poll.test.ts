import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { scaled } from "../../support/time-scale.js";
import { MapType } from "../../../src/obj/consts.js";
import { BpfMap } from "../../../src/map/map.js";
import { BpfFlags } from "../../../src/obj/consts.js";
import { Errno, SysError, check } from "../../../src/sys/errors.js";
import { FD } from "../../../src/sys/fd.js";
import {
  MmapFlags,
  Prot,
  RingbufMapping,
  mmap,
  mmapPerfBuffer,
  munmap,
  pageSize,
} from "../../../src/sys/mmap.js";
import { native } from "../../../src/sys/native.js";
import { Poller, PollEvents, waitReadable } from "../../../src/sys/poll.js";
import { openBpfOutput } from "../../../src/sys/perf-event.js";
import { u32 } from "../../../src/types/index.js";
import { ProgType } from "../../../src/obj/consts.js";
import { progLoad, progTestRun } from "../../../src/sys/bpf.js";
import { ringbufOutputInsns } from "../../support/programs.js";

function eventfd(): FD {
  return new FD(check("eventfd", native().eventfd(0, 0)));
}

function signal(fd: FD, n = 1n): void {
  check("write", native().write(fd.fd, new BigUint64Array([n])));
}

test("ring buffer map: consumer page RW, producer page + doubled data area RO", (t) => {
  if (!needsKernel(t)) return;
  const size = 4 * pageSize();
  using m = BpfMap.create({
    type: MapType.RINGBUF,
    keySize: 0,
    valueSize: 0,
    maxEntries: size,
    name: "t_rb_mmap",
  });
  using rb = new RingbufMapping(m.fd, size);
  assert.equal(rb.consumer.byteLength, pageSize());
  assert.equal(rb.producer.byteLength, pageSize() + 2 * size);
  assert.equal(rb.data().byteLength, 2 * size);
  assert.equal(new BigUint64Array(rb.producer, 0, 1)[0], 0n, "producer_pos starts at 0");
  const consumerPos = new BigUint64Array(rb.consumer, 0, 1);
  consumerPos[0] = 0n; // writable without faulting
  rb.close();
  assert.equal(rb.consumer.byteLength, 0, "munmap detaches the buffer");
  assert.throws(() => new RingbufMapping(m.fd, size + 1), /power of two .*a bug in tsbpf/);
});

test("ring buffer data pages are mapped twice back to back (records that wrap stay contiguous)", (t) => {
  if (!needsKernel(t)) return;
  const size = pageSize();
  using m = BpfMap.create({
    type: MapType.RINGBUF,
    keySize: 0,
    valueSize: 0,
    maxEntries: size,
    name: "t_rb_twice",
  });
  using rb = new RingbufMapping(m.fd, size);
  using prog = progLoad({
    type: ProgType.SOCKET_FILTER,
    insns: ringbufOutputInsns(m.fd, 0x5a5a5a5a),
    license: "GPL",
  }).fd;
  // 16-byte records (8 header + 8 data): fill the ring, consume, and go around again.
  const consumer = new BigUint64Array(rb.consumer, 0, 1);
  const producer = new BigUint64Array(rb.producer, 0, 1);
  for (let round = 0; round < 3; round++) {
    progTestRun({ progFd: prog.fd, dataIn: new Uint8Array(64), repeat: size / 16 - 1 });
    consumer[0] = producer[0]!;
  }
  assert.ok(producer[0]! > BigInt(size), "the producer wrapped around");
  const data = rb.data();
  assert.deepEqual(
    data.subarray(size, 2 * size),
    data.subarray(0, size),
    "second copy mirrors the first",
  );
  assert.ok(data.subarray(0, size).some((b) => b === 0x5a));
});

test("mmapable array: writes through the mapping are map values (zero copy)", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create(
    {
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 4,
      flags: BpfFlags.MMAPABLE,
      name: "t_mmapable",
    },
    { key: u32 },
  );
  const ab = mmap(m.fd, pageSize(), Prot.READ | Prot.WRITE, MmapFlags.SHARED);
  new DataView(ab).setUint32(16, 0xfeedface, true); // element 2
  assert.equal(new DataView(m.get(2)!.buffer).getUint32(0, true), 0xfeedface);
  m.set(3, new Uint8Array(8).fill(9));
  assert.equal(new Uint8Array(ab)[24], 9);
  munmap(ab);
  munmap(ab); // idempotent
  assert.throws(
    () => munmap(new ArrayBuffer(8)),
    TypeError,
    "only buffers from mmap() are unmapped",
  );
  assert.equal(ab.byteLength, 0);
});

test("mmap failures are SysErrors naming mmap", (t) => {
  if (!needsKernel(t)) return;
  using m = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.throws(
    () => mmap(m.fd, pageSize(), Prot.READ),
    (e: unknown) => e instanceof SysError && e.syscall === "mmap",
  );
  assert.throws(() => mmapPerfBuffer(m.fd, 3), /power of two .*a bug in tsbpf/);
});

test("perf buffer: BPF_OUTPUT event mapped with metadata page + data pages", (t) => {
  if (!needsKernel(t)) return;
  using ev = openBpfOutput(0);
  const ab = mmapPerfBuffer(ev.fd, 4);
  assert.equal(ab.byteLength, 5 * pageSize());
  const meta = new DataView(ab);
  assert.equal(meta.getBigUint64(1024, true), 0n, "data_head");
  assert.equal(Number(meta.getBigUint64(1048, true)), 4 * pageSize(), "data_size");
  munmap(ab);
});

/** Resolves after `n` turns of the event loop (each a setImmediate hop). */
async function loopTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

// Behaviour, not timing: these hold on a slow guest (qemu TCG) as on the host.
test("Poller fires on the event loop without blocking it", { timeout: 30_000 }, async (t) => {
  if (!needsKernel(t)) return;
  using efd = eventfd();
  let fired = false;
  const done = new Promise<number>((resolve) => {
    const p = new Poller(efd.fd, PollEvents.READABLE, (events) => {
      fired = true;
      p.stop(); // stopping inside the callback is allowed
      p.stop();
      resolve(events);
    });
  });
  // A poller that blocked the loop would keep these callbacks (and so the signal) from running.
  await loopTurns(5);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(fired, false, "nothing fired before the fd was readable");
  signal(efd);
  const events = await done;
  assert.equal(events & PollEvents.READABLE, PollEvents.READABLE);
});

test(
  "Poller keeps firing while the fd stays readable, and stops on stop()",
  { timeout: 30_000 },
  async (t) => {
    if (!needsKernel(t)) return;
    using efd = eventfd();
    const buf = new BigUint64Array(1);
    let calls = 0;
    let drain = false;
    let next: (() => void) | undefined;
    using p = new Poller(efd.fd, PollEvents.READABLE, () => {
      calls++;
      if (drain) native().read(efd.fd, buf);
      next?.();
    });
    const call = () => new Promise<void>((r) => (next = r));
    // Level-triggered: one signal, not drained, fires again and again.
    signal(efd);
    for (let i = 0; i < 3; i++) await call();
    assert.equal(calls, 3);
    // Drained in the callback: one call per signal, then quiet.
    drain = true;
    await call();
    const drained = calls;
    signal(efd, 5n);
    await call();
    assert.equal(calls, drained + 1, "a drained fd fires once per signal");
    await loopTurns(10);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls, drained + 1, "a drained fd stays quiet");
    p.stop();
    assert.equal(p.active, false);
    signal(efd);
    await loopTurns(10);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls, drained + 1, "a stopped poller does not fire");
  },
);

test("waitReadable resolves on readiness and rejects on abort", async (t) => {
  if (!needsKernel(t)) return;
  using efd = eventfd();
  setTimeout(() => signal(efd), 5);
  await waitReadable(efd.fd);
  using idle = eventfd();
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error("gave up")), 5);
  await assert.rejects(waitReadable(idle.fd, ac.signal), /gave up/);
});

test("a ref'd poller keeps the process alive; an unref'd one does not", (t) => {
  if (!needsKernel(t)) return;
  const pollJs = fileURLToPath(new URL("../../../src/sys/poll.js", import.meta.url));
  const nativeJs = fileURLToPath(new URL("../../../src/sys/native.js", import.meta.url));
  // An unref'd timer fires only while something else keeps the loop alive: exit 3 from it
  // means the poller held the process; a plain exit 0 means it let the process go. No clock
  // decides the outcome, so a slow machine gets the same answer.
  const script = (unref: boolean) => `
    import { Poller } from ${JSON.stringify(pollJs)};
    import { native } from ${JSON.stringify(nativeJs)};
    const p = new Poller(native().eventfd(0, 0), 1, () => {});
    ${unref ? "p.unref();" : ""}
    setTimeout(() => process.exit(3), 100).unref();`;
  const run = (unref: boolean) =>
    spawnSync(process.execPath, ["--input-type=module", "-e", script(unref)], {
      timeout: scaled(20_000),
      encoding: "utf8",
    });
  const free = run(true);
  assert.equal(free.status, 0, `an unref'd poller lets the process exit: ${free.stderr}`);
  const held = run(false);
  assert.equal(held.status, 3, `a ref'd poller keeps the process alive: ${held.stderr}`);
});

test("poll errors are SysErrors (bad fd)", (t) => {
  if (!needsKernel(t)) return;
  assert.throws(
    () => new Poller(1 << 20, PollEvents.READABLE, () => {}),
    (e: unknown) => e instanceof SysError && e.errno === Errno.EBADF,
  );
});
