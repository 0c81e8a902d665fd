// fentry/fexit for real: the clang fixture fentry.o (test/fixtures/c/fentry.bpf.c) on
// do_unlinkat, loaded by Collection (TRACING programs with the kernel function's BTF id) and
// attached by their sections. The test unlinks files and reads the ring buffer records in JS:
// the entry record, then the exit record with the kernel's return value.
// Needs BPF trampolines: a skip with the reason where the kernel lacks or denies them (the
// development machine denies ftrace), a failure anywhere they should work (6.1 and 6.12 VMs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collection } from "../../../src/load/collection.js";
import { ProgType } from "../../../src/obj/consts.js";
import { parseObject } from "../../../src/obj/object.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

/** struct unlink_event: pid u32 | kind u32 (0 entry, 1 exit) | ret s64 | filename char[256] */
interface UnlinkEvent {
  pid: number;
  kind: "entry" | "exit";
  ret: bigint;
  filename: string;
}

function decode(b: Uint8Array): UnlinkEvent {
  assert.equal(b.byteLength, 272, "struct unlink_event is 272 bytes");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const name = b.subarray(16, 272);
  const nul = name.indexOf(0);
  const kind = dv.getUint32(4, true);
  assert.ok(kind === 0 || kind === 1, `record kind ${kind}`);
  return {
    pid: dv.getUint32(0, true),
    kind: kind === 0 ? "entry" : "exit",
    ret: dv.getBigInt64(8, true),
    filename: Buffer.from(name.subarray(0, nul < 0 ? name.length : nul)).toString("utf8"),
  };
}

const needs = { minKernel: "5.5", feature: "fentry" } as const;

/** JSON.stringify replacer for records with bigint fields. */
const big = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);

test("fentry + fexit on do_unlinkat: each unlink arrives in JS, entry then exit with the result", async (t) => {
  if (!needsKernel(t, needs)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-fentry-"));
  try {
    using coll = await Collection.loadFile(fixture("fentry.o"), {
      globals: { target_pid: process.pid },
    });
    const entry = coll.program("unlink_entry");
    const exit = coll.program("unlink_exit");
    assert.equal(entry.type, ProgType.TRACING);
    assert.equal(exit.type, ProgType.TRACING);
    using reader = RingBufReader.open(coll.map("events"));
    using l1 = entry.attach();
    using l2 = exit.attach();
    assert.equal(l1.kind, "fentry");
    assert.equal(l2.kind, "fexit");

    const present = join(dir, "present-file");
    const missing = join(dir, "missing-file");
    writeFileSync(present, "x");
    unlinkSync(present);
    assert.throws(() => unlinkSync(missing), { code: "ENOENT" });

    const recs = reader.readBatch().map(decode);
    assert.ok(
      recs.every((r) => r.pid === process.pid),
      "target_pid keeps other processes out",
    );
    // Each entry is followed by its exit (same thread, same call). The exit record's path is
    // not compared: do_unlinkat releases the name (putname) before it returns.
    // do_unlinkat returns int: the trampoline hands over rax, whose upper half is zero, so
    // the record's s64 holds the int zero-extended (0xfffffffe for -ENOENT).
    for (const [file, ret] of [
      [present, 0],
      [missing, -2],
    ] as const) {
      const i = recs.findIndex((r) => r.kind === "entry" && r.filename === file);
      assert.ok(i >= 0, `an entry record for ${file} among ${JSON.stringify(recs, big)}`);
      assert.equal(recs[i]!.ret, 0n);
      assert.equal(recs[i + 1]?.kind, "exit", `exit record after the entry for ${file}`);
      const got = Number(BigInt.asIntN(32, recs[i + 1]!.ret));
      assert.equal(got, ret, `do_unlinkat(${file}) returned ${ret}`);
    }

    // Detaching stops the records; the programs stay loaded.
    l1.close();
    l2.close();
    writeFileSync(present, "x");
    unlinkSync(present);
    assert.deepEqual(reader.readBatch().map(decode), [], "no records after close()");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("fentry on a function the kernel does not have is refused at load, naming it", (t) => {
  if (!needsKernel(t, needs)) return;
  const obj = parseObject(readFileSync(fixture("fentry.o")));
  const spec = obj.programs.find((p) => p.name === "unlink_entry")!;
  const renamed = {
    ...obj,
    programs: [
      {
        ...spec,
        section: "fentry/tsbpf_no_such_function",
        sectionInfo: { ...spec.sectionInfo!, target: "tsbpf_no_such_function" },
      },
    ],
  };
  assert.throws(() => Collection.load(renamed), /kernel has no function tsbpf_no_such_function/);
});
