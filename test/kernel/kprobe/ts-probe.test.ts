// kprobe/kretprobe from a TypeScript probe: compiled by tsbpf's own compiler (no clang),
// loaded by Collection, attached by section, events read in JS from the ring buffer.
// Same rule as kprobe.test.ts: skipped where CONFIG_KPROBES is off, failing where it is on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collection } from "../../../src/load/collection.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { needsKernel } from "../../support/kernel.js";

// The entry probe reports dfd and the path; the return probe reports the result. Only the
// process whose tgid is in target[0] is traced.
const PROBE = `import { program, map, kprobe, kretprobe, ArrayMap, RingBuf, pidTgid, toNumber, probeReadUserStr } from "tsbpf/probe";
import { struct, u32, u64, u8, array, type Infer } from "tsbpf/types";
program({ license: "GPL" });
const Open = struct("Open", { pid: u32, kind: u32, value: u64, filename: array(u8, 64) });
type OpenT = Infer<typeof Open>;
const target = map("target", new ArrayMap(u32, { maxEntries: 1 }));
const events = map("events", new RingBuf(Open, { maxEntries: 64 * 1024 }));
export const ts_open_entry = kprobe((regs) => {
  const pid = toNumber(pidTgid() >> 32n);
  const want = target.get(0);
  if (want !== null && want === pid) {
    const e: OpenT = { pid: pid, kind: 0, value: regs.parm1(), filename: new Uint8Array(64) };
    probeReadUserStr(e.filename, regs.parm2());
    events.output(e);
  }
  return 0;
}, "do_sys_openat2");
export const ts_open_exit = kretprobe((regs) => {
  const pid = toNumber(pidTgid() >> 32n);
  const want = target.get(0);
  if (want !== null && want === pid)
    events.output({ pid: pid, kind: 1, value: regs.ret(), filename: new Uint8Array(64) });
  return 0;
}, "do_sys_openat2");
`;

interface Rec {
  pid: number;
  kind: number;
  /** low 32 bits, signed: dfd on entry, fd or -errno on return */
  value: number;
  filename: string;
}

function decode(b: Uint8Array): Rec {
  assert.equal(b.byteLength, 80, "struct Open is 80 bytes");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const name = b.subarray(16, 80);
  const nul = name.indexOf(0);
  return {
    pid: dv.getUint32(0, true),
    kind: dv.getUint32(4, true),
    value: Number(BigInt.asIntN(32, dv.getBigUint64(8, true))),
    filename: Buffer.from(name.subarray(0, nul < 0 ? name.length : nul)).toString("utf8"),
  };
}

const AT_FDCWD = -100;

test("TypeScript kprobe + kretprobe on do_sys_openat2: dfd, path and result arrive in JS", async (t) => {
  if (!needsKernel(t, { minKernel: "5.6", feature: "kprobes" })) return;
  const path = `/tmp/tsbpf-virtual/kprobe-${process.pid}.ts`;
  const compiled = compileProbe(path, { sources: new Map([[path, PROBE]]) });
  assert.deepEqual(
    compiled.programs.map((p) => p.section),
    ["kprobe/do_sys_openat2", "kretprobe/do_sys_openat2"],
  );
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-tskprobe-"));
  try {
    using coll = Collection.load(compiled.elf);
    const pid = new Uint8Array(4);
    new DataView(pid.buffer).setUint32(0, process.pid, true);
    coll.map("target").set(new Uint8Array(4), pid);
    using reader = RingBufReader.open(coll.map("events"));
    using entry = coll.program("ts_open_entry").attach();
    using exit = coll.program("ts_open_exit").attach();
    assert.deepEqual([entry.kind, exit.kind], ["kprobe", "kretprobe"]);

    const present = join(dir, "present");
    const missing = join(dir, "missing");
    writeFileSync(present, "x");
    reader.readBatch();
    const fd = openSync(present, "r");
    closeSync(fd);
    assert.throws(() => openSync(missing, "r"), { code: "ENOENT" });
    const recs = reader.readBatch().map(decode);
    assert.ok(
      recs.every((r) => r.pid === process.pid),
      "only the target process is traced",
    );
    // Each entry record is followed by its return record (same thread, same call).
    for (const [file, result] of [
      [present, fd],
      [missing, -2],
    ] as const) {
      const i = recs.findIndex((r) => r.kind === 0 && r.filename === file);
      assert.ok(i >= 0, `an entry record for ${file} among ${JSON.stringify(recs)}`);
      assert.equal(recs[i]!.value, AT_FDCWD);
      assert.deepEqual(recs[i + 1], { pid: process.pid, kind: 1, value: result, filename: "" });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
