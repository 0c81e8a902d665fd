// kprobe/kretprobe for real: the clang fixture kprobe.o (test/fixtures/c/kprobe.bpf.c) on
// do_sys_openat2, loaded by Collection and attached by its sections. The test opens files and
// reads the ring buffer records in JS: path, pid and the fd (or -errno) the kernel returned.
// Needs CONFIG_KPROBES: a skip with the reason on kernels configured without it (the
// development machine), a failure anywhere it should work (the VM kernels, 6.1 and 6.12).
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collection } from "../../../src/load/collection.js";
import { AttachError, attachKprobe } from "../../../src/link/index.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

/** struct openat2_event: pid u32 | pad u32 | ret s64 | filename char[256] */
interface OpenEvent {
  pid: number;
  ret: bigint;
  filename: string;
}

function decode(b: Uint8Array): OpenEvent {
  assert.equal(b.byteLength, 272, "struct openat2_event is 272 bytes");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const name = b.subarray(16, 272);
  const nul = name.indexOf(0);
  return {
    pid: dv.getUint32(0, true),
    ret: dv.getBigInt64(8, true),
    filename: Buffer.from(name.subarray(0, nul < 0 ? name.length : nul)).toString("utf8"),
  };
}

const needs = { minKernel: "5.6", feature: "kprobes" } as const; // do_sys_openat2: 5.6

test("kprobe + kretprobe on do_sys_openat2: each open arrives in JS with its path and result", async (t) => {
  if (!needsKernel(t, needs)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-kprobe-"));
  try {
    using coll = await Collection.loadFile(fixture("kprobe.o"), {
      globals: { target_pid: process.pid },
    });
    const entry = coll.program("openat2_entry");
    const exit = coll.program("openat2_exit");
    assert.equal(entry.kindLabel, "KProbe");
    using reader = RingBufReader.open(coll.map("events"));
    using l1 = entry.attach();
    using l2 = exit.attach();
    assert.equal(l1.kind, "kprobe");
    assert.equal(l2.kind, "kretprobe");
    assert.match(l1.description, /do_sys_openat2/);

    const present = join(dir, "present-file");
    const missing = join(dir, "missing-file");
    writeFileSync(present, "x");
    reader.readBatch(); // drop what writeFileSync's own open produced
    const fd = openSync(present, "r");
    closeSync(fd);
    assert.throws(() => openSync(missing, "r"), { code: "ENOENT" });

    const ours = reader
      .readBatch()
      .map(decode)
      .filter((e) => e.filename.startsWith(dir));
    assert.deepEqual(ours, [
      { pid: process.pid, ret: BigInt(fd), filename: present },
      { pid: process.pid, ret: -2n, filename: missing },
    ]);
    assert.equal(
      [...coll.map("inflight").keysSync()].length,
      0,
      "the kretprobe consumed every entry",
    );

    // After detaching, opens no longer reach the ring.
    l1.close();
    l2.close();
    closeSync(openSync(present, "r"));
    assert.deepEqual(
      reader
        .readBatch()
        .map(decode)
        .filter((e) => e.filename.startsWith(dir)),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("kprobe on a function the kernel does not have is refused by name", async (t) => {
  if (!needsKernel(t, needs)) return;
  using coll = await Collection.loadFile(fixture("kprobe.o"), { programs: ["openat2_entry"] });
  const prog = coll.program("openat2_entry");
  for (const retprobe of [false, true])
    assert.throws(
      () => attachKprobe(prog, { symbol: "tsbpf_no_such_function", retprobe }),
      (e: unknown) =>
        e instanceof AttachError && /no kernel function tsbpf_no_such_function/.test(e.message),
    );
  // Its section (kprobe/do_sys_openat2) names its function: another symbol is a conflict,
  // neither silently ignored nor silently obeyed.
  assert.throws(
    () => prog.attach({ symbol: "tsbpf_no_such_function" }),
    (e: unknown) =>
      e instanceof AttachError &&
      /names its function in its section \(do_sys_openat2\); the symbol option \(tsbpf_no_such_function\)/.test(
        e.message,
      ),
  );
});
