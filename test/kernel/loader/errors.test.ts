// Library errors are typed and true (issue 17): each misuse below once gave a plain Error, a
// TypeError, a raw EEXIST or an endless wait.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { Collection, LoadError } from "../../../src/collection.js";
import { Program, ProgramError } from "../../../src/program.js";
import { MapError } from "../../../src/map.js";
import { AttachError } from "../../../src/link/errors.js";
import { PerfReader, RingBufReader } from "../../../src/reader/index.js";
import { SysError, Errno } from "../../../src/sys/errors.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

test("Program.attach and Program.fd after the Collection closed: AttachError / ProgramError", async (t) => {
  if (!needsKernel(t)) return;
  const c = await Collection.loadFile(fixture("perf_openat.o"));
  const p = c.program("perf_openat_prog");
  c.close();
  assert.throws(
    () => p.attach(),
    (e: unknown) =>
      e instanceof AttachError &&
      /program perf_openat_prog is closed .*load the object again/.test(e.message),
  );
  assert.throws(() => p.fd, ProgramError);
  assert.throws(() => p.pin("/sys/fs/bpf/never"), ProgramError);
});

test("a reader on the wrong kind of map: MapError naming both types", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("perf_openat.o"));
  assert.throws(
    () => RingBufReader.open(c.map("open_count")),
    (e: unknown) =>
      e instanceof MapError &&
      /RingBufReader needs a BPF_MAP_TYPE_RINGBUF map, but map "open_count" is BPF_MAP_TYPE_ARRAY/.test(
        e.message,
      ),
  );
  assert.throws(() => PerfReader.open(c.map("open_count")), MapError);
});

test("pinning over an existing pin: SysError EEXIST that names the path and what to do", async (t) => {
  if (!needsKernel(t)) return;
  const dir = `/sys/fs/bpf/tsbpf-test-${process.pid}-${randomBytes(4).toString("hex")}`;
  mkdirSync(dir);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  using c = await Collection.loadFile(fixture("perf_openat.o"));
  const p = c.program("perf_openat_prog");
  p.pin(`${dir}/prog`);
  for (const again of [() => p.pin(`${dir}/prog`), () => c.map("open_count").pin(`${dir}/prog`)])
    assert.throws(
      again,
      (e: unknown) =>
        e instanceof SysError &&
        e.errno === Errno.EEXIST &&
        e.message.includes(`already pinned at ${dir}/prog: remove it (rm ${dir}/prog)`),
    );
  using again = Program.fromPin(`${dir}/prog`);
  assert.equal(again.name, "perf_openat_pro"); // the kernel keeps 15 characters of a name
});

test("for await on a reader ends when its Collection is closed", async (t) => {
  if (!needsKernel(t)) return;
  const c = await Collection.loadFile(fixture("perf_openat.o"));
  const reader = PerfReader.open(c.map("events"));
  const done = (async () => {
    let n = 0;
    for await (const b of reader) n += b.events.length;
    return n;
  })();
  setTimeout(() => c.close(), 50);
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 10_000).unref());
  assert.notEqual(await Promise.race([done, timeout]), "timeout", "the loop ended");
  assert.equal(reader.isClosed, true);
});

test("Collection lookups, globals and missing files: LoadError with what there is", async (t) => {
  if (!needsKernel(t)) return;
  await assert.rejects(Collection.loadFile("/nonexistent/x.o"), (e: unknown) => {
    return e instanceof LoadError && /no such object file: \/nonexistent\/x.o/.test(e.message);
  });
  using c = await Collection.loadFile(fixture("perf_openat.o"));
  assert.throws(
    () => c.program("nope"),
    (e: unknown) =>
      e instanceof LoadError && /no program named nope .*perf_openat_prog/.test(e.message),
  );
  assert.throws(() => c.map("nope"), LoadError);
  await assert.rejects(
    Collection.loadFile(fixture("perf_openat.o"), { globals: { nope: 1 } }),
    LoadError,
  );
  await assert.rejects(
    Collection.loadFile(fixture("globals.o"), { programs: ["nope"] }),
    LoadError,
  );
});

test("a socket filter attached by section without a socket: AttachError naming the real API", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("socket_filter.o"));
  const [p] = c.programs.values();
  assert.throws(
    () => p!.attach(),
    (e: unknown) =>
      e instanceof AttachError &&
      /\{ socket: fd \} to attach\(\), or call attachSocketFilter\(prog, fd\)/.test(e.message) &&
      !/socket option/.test(e.message),
  );
});
