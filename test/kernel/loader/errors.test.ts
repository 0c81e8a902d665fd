// Library errors are typed and true (issue 17): each misuse below once gave a plain Error, a
// TypeError, a raw EEXIST or an endless wait.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { Collection, LoadError } from "../../../src/load/collection.js";
import { Program, ProgramError } from "../../../src/load/program.js";
import { MapError } from "../../../src/map/map.js";
import { AttachError, LinkError } from "../../../src/link/errors.js";
import { FdLink } from "../../../src/link/link.js";
import { BpfMap } from "../../../src/map/map.js";
import { MapType } from "../../../src/obj/consts.js";
import { PerfReader, ReaderOptionError, RingBufReader } from "../../../src/reader/index.js";
import { SysError, Errno } from "../../../src/sys/errors.js";
import { needsKernel } from "../../support/kernel.js";
import { buildC, fixture, needsClang } from "../../support/fixtures.js";

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

test("an FdLink used after close(): LinkError naming the link, not a plain Error", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("perf_openat.o"));
  const p = c.program("perf_openat_prog");
  const link = p.attach();
  assert.ok(link instanceof FdLink, `${link.description} is a bpf_link`);
  assert.equal(typeof link.info().id, "number", "info() works while attached");
  link.close();
  const closed = (what: string) => (e: unknown) =>
    e instanceof LinkError &&
    e.message.startsWith(`${link.description}: cannot ${what} a closed link`) &&
    /attach again/.test(e.message);
  assert.throws(() => link.info(), closed("read the info of"));
  assert.throws(() => link.id, closed("read the info of"));
  assert.throws(() => link.pin("/sys/fs/bpf/never"), closed("pin"));
  assert.throws(() => link.update(p), closed("update"));
  assert.throws(() => link.detach(), closed("detach"));
  // The raw FD under it: a SysError EBADF that says it was closed.
  assert.throws(
    () => link.fd.fd,
    (e: unknown) =>
      e instanceof SysError && e.errno === Errno.EBADF && /it was closed/.test(e.message),
  );
  link.close(); // closing twice stays harmless
});

test("bad reader options: ReaderOptionError naming the map and option, nothing left open", (t) => {
  if (!needsKernel(t)) return;
  using perf = BpfMap.create({
    type: MapType.PERF_EVENT_ARRAY,
    keySize: 4,
    valueSize: 4,
    maxEntries: 256,
    name: "opt_perf",
  });
  using ring = BpfMap.create({
    type: MapType.RINGBUF,
    keySize: 0,
    valueSize: 0,
    maxEntries: 1 << 16,
    name: "opt_ring",
  });
  const bad = (map: string, option: RegExp) => (e: unknown) =>
    e instanceof ReaderOptionError &&
    e instanceof RangeError && // what it was before, still true
    e.message.includes(`"${map}"`) &&
    option.test(e.message);
  assert.throws(
    () => PerfReader.open(perf, { pageCount: 3 }),
    bad("opt_perf", /pageCount 3 must be a power of two/),
  );
  assert.throws(
    () => PerfReader.open(perf, { maxBatch: 0 }),
    bad("opt_perf", /maxBatch must be an integer from 1/),
  );
  assert.throws(
    () => PerfReader.open(perf, { wakeupEvents: 1.5 }),
    bad("opt_perf", /wakeupEvents must be an integer from 1 to 4294967295, got 1.5/),
  );
  assert.throws(() => PerfReader.open(perf, { cpus: [] }), bad("opt_perf", /cpus is empty/));
  assert.throws(
    () => RingBufReader.open(ring, { maxBatch: -1 }),
    bad("opt_ring", /maxBatch .* got -1/),
  );
  // The maps are untouched: good options still open readers on them.
  PerfReader.open(perf, { cpus: [0] }).close();
  RingBufReader.open(ring, { maxBatch: 8 }).close();
});

test("unpinning a map twice: MapError naming the path, not a raw ENOENT", (t) => {
  if (!needsKernel(t)) return;
  const path = `/sys/fs/bpf/tsbpf-unpin-${process.pid}-${randomBytes(4).toString("hex")}`;
  using m = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
  m.pin(path);
  t.after(() => rmSync(path, { force: true }));
  m.unpin();
  assert.throws(
    () => m.unpin(path),
    (e: unknown) => e instanceof MapError && e.message.includes(`nothing is pinned at ${path}`),
  );
});

test("struct_ops and freplace programs: a LoadError saying what is missing, nothing loaded", (t) => {
  if (!needsKernel(t) || !needsClang(t)) return;
  const head = `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nchar _license[] SEC("license") = "GPL";\n`;
  const ops = buildC(
    `${head}SEC("struct_ops/test_1") int test_1(void) { return 0; }
SEC("xdp") int pass(struct xdp_md *ctx) { return XDP_PASS; }`,
    "loader-struct-ops",
  );
  assert.throws(
    () => Collection.load(ops),
    (e: unknown) =>
      e instanceof LoadError &&
      /program test_1 \(section struct_ops\/test_1\): struct_ops programs .*\.struct_ops map.*autoload: \{ test_1: false \}/.test(
        e.message,
      ),
  );
  // What the message offers works: the rest of the object loads.
  using c = Collection.load(ops, { autoload: { test_1: false } });
  assert.deepEqual([...c.programs.keys()], ["pass"]);
  const ext = buildC(
    `${head}SEC("freplace/subprog") int replacement(void) { return 0; }`,
    "loader-freplace",
  );
  assert.throws(
    () => Collection.load(ext),
    /freplace \(extension\) programs need the loaded program/,
  );
});

test("a ring buffer or perf array declared with its record type: the EINVAL says what to remove", (t) => {
  if (!needsKernel(t) || !needsClang(t)) return;
  // As cilium/ebpf's examples declare them (its loader drops the types; libbpf does not).
  const obj = (map: string, name: string) =>
    buildC(
      `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>
struct event { __u32 pid; __u8 comm[16]; };
${map}
SEC("xdp") int p(struct xdp_md *ctx) { return XDP_PASS; }
char _license[] SEC("license") = "GPL";`,
      name,
    );
  const ring = obj(
    `struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 16); __type(value, struct event); } rb SEC(".maps");`,
    "loader-typed-ring",
  );
  assert.throws(
    () => Collection.load(ring),
    (e: unknown) =>
      e instanceof SysError &&
      /cannot create map rb \(RINGBUF.*EINVAL.*here: a RINGBUF map has no key or value.*remove its __type/.test(
        e.message,
      ),
  );
  const perf = obj(
    `struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __type(value, struct event); } perf SEC(".maps");`,
    "loader-typed-perf",
  );
  assert.throws(
    () => Collection.load(perf),
    (e: unknown) =>
      e instanceof SysError &&
      /cannot create map perf \(PERF_EVENT_ARRAY.*here: a PERF_EVENT_ARRAY holds one perf event fd/.test(
        e.message,
      ),
  );
});

test("a section that names no program type is refused, not loaded as a socket filter", (t) => {
  if (!needsKernel(t) || !needsClang(t)) return;
  const elf = buildC(
    `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>
SEC("kprobe.session/vfs_read") int future(void *ctx) { return 0; }
SEC("xdp") int pass(struct xdp_md *ctx) { return XDP_PASS; }
char _license[] SEC("license") = "GPL";`,
    "loader-unknown-section",
  );
  assert.throws(
    () => Collection.load(elf),
    (e: unknown) =>
      e instanceof LoadError &&
      /program future: section "kprobe\.session\/vfs_read" names no program type tsbpf knows.*autoload: \{ future: false \}/.test(
        e.message,
      ),
  );
  using c = Collection.load(elf, { autoload: { future: false } });
  assert.deepEqual([...c.programs.keys()], ["pass"]);
});
