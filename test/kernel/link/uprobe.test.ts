import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { ProgType } from "../../../src/obj/consts.js";
import { AttachError, attachUprobe, FdLink, resolveUprobeTarget } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { linkIds } from "../../support/bpftool.js";
import { fixture } from "../../support/fixtures.js";
import { countingProgram } from "./programs.js";

// struct pt_regs (x86-64) offsets of the registers carrying int f(int a, int b) and its result.
const RDI = 112;
const RSI = 104;
const RAX = 80;
const unavailable = process.arch === "x64" ? undefined : "pt_regs offsets here are x86-64's";

const run = (bin: string, n: number) => execFileSync(bin, [String(n)], { encoding: "utf8" });
const low32 = (v: bigint) => Number(BigInt.asIntN(32, v));

test("uprobe + uretprobe on uprobe_target:tsbpf_probe_target see arguments and return values", (t) => {
  if (!needsKernel(t, unavailable)) return;
  const bin = fixture("uprobe_target");
  using entry = countingProgram({
    type: ProgType.KPROBE,
    name: "up_entry",
    ret: 0,
    record: [
      { key: 1, ctxOff: RDI },
      { key: 2, ctxOff: RSI },
    ],
  });
  using ret = countingProgram({
    type: ProgType.KPROBE,
    name: "up_ret",
    ret: 0,
    record: [{ key: 3, ctxOff: RAX }],
  });
  const l1 = attachUprobe(entry, { binary: bin, symbol: "tsbpf_probe_target" });
  const l2 = attachUprobe(ret, { binary: bin, symbol: "tsbpf_probe_target", retprobe: true });
  assert.equal(l1.kind, "uprobe");
  assert.equal(l2.kind, "uretprobe");
  assert.match(
    l1.description,
    /uprobe up_entry on .*uprobe_target:tsbpf_probe_target \(offset 0x[0-9a-f]+\) \(bpf_link\)/,
  );
  assert.ok(l1 instanceof FdLink && linkIds().includes(l1.id));
  assert.match(run(bin, 5), /calls=5 sum=585/);
  assert.equal(entry.read(0), 5n);
  assert.equal(low32(entry.read(1)), 5); // last call: a = 5
  assert.equal(low32(entry.read(2)), 50); // b = 50
  assert.equal(ret.read(0), 5n);
  assert.equal(low32(ret.read(3)), 257); // 5 * 50 + 7
  l1.close();
  l2.close();
  run(bin, 3);
  assert.equal(entry.read(0), 5n, "no hits after close()");
  assert.equal(ret.read(0), 5n);
});

test("uprobe in a shared library resolves the symbol inside the .so", (t) => {
  if (!needsKernel(t, unavailable)) return;
  const lib = fixture("libtsbpf_target.so");
  const bin = fixture("uprobe_target_shared");
  using prog = countingProgram({
    type: ProgType.KPROBE,
    name: "up_lib",
    ret: 0,
    record: [{ key: 1, ctxOff: RDI }],
  });
  using link = attachUprobe(prog, { binary: lib, symbol: "tsbpf_lib_target" });
  assert.match(run(bin, 4), /calls=4/);
  assert.equal(prog.read(0), 4n);
  assert.equal(low32(prog.read(1)), 4);
  void link;
});

test("uprobe with a pid fires only in that process", async (t) => {
  if (!needsKernel(t, unavailable)) return;
  const bin = fixture("uprobe_target");
  using prog = countingProgram({ type: ProgType.KPROBE, name: "up_pid", ret: 0 });
  const child = spawn(bin, ["3", "--wait"], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const ready = (await lines.next()).value as string;
    assert.match(ready, /^ready \d+$/);
    using link = attachUprobe(prog, { binary: bin, symbol: "tsbpf_probe_target", pid: child.pid! });
    assert.match(link.description, new RegExp(`pid ${child.pid}`));
    run(bin, 7); // another process: not counted
    assert.equal(prog.read(), 0n);
    child.stdin!.write("go\n");
    await once(child, "exit");
    assert.equal(prog.read(), 3n);
  } finally {
    child.kill("SIGKILL");
  }
});

test("uprobe target resolution and errors", (t) => {
  if (!needsKernel(t, unavailable)) return;
  const bin = fixture("uprobe_target");
  const nm = execFileSync("nm", [bin], { encoding: "utf8" });
  assert.match(nm, /tsbpf_probe_target/);
  const r = resolveUprobeTarget({ binary: bin, symbol: "tsbpf_probe_target", offset: 4 });
  assert.equal(
    r.offset,
    resolveUprobeTarget({ binary: bin, symbol: "tsbpf_probe_target" }).offset + 4,
  );
  using prog = countingProgram({ type: ProgType.KPROBE, name: "up_err", ret: 0 });
  // A bare file offset works as well as the symbol it came from.
  const byOffset = attachUprobe(prog, { binary: bin, offset: r.offset - 4 });
  assert.match(byOffset.description, new RegExp(`uprobe_target:0x${(r.offset - 4).toString(16)} `));
  run(bin, 2);
  byOffset.close();
  assert.equal(prog.read(), 2n);
  assert.throws(
    () => attachUprobe(prog, { binary: bin, symbol: "no_such_fn" }),
    (e: unknown) =>
      e instanceof AttachError && /no function no_such_fn in .*uprobe_target/.test(e.message),
  );
  assert.throws(
    () => attachUprobe(prog, { binary: "libnothere_tsbpf", symbol: "x" }),
    /cannot find binary or library "libnothere_tsbpf"/,
  );
  assert.throws(() => attachUprobe(prog, { binary: bin }), /needs a symbol or an offset/);
  assert.throws(
    () => attachUprobe(prog, { binary: bin, symbol: "tsbpf_probe_target", pid: 0x3ffffff0 }),
    /no process 1073741808|is process 1073741808 running/,
  );
  using tp = countingProgram({ type: ProgType.TRACEPOINT, name: "up_wrong", ret: 0 });
  assert.throws(
    () => attachUprobe(tp, { binary: bin, symbol: "main" }),
    /uprobes run KPROBE programs/,
  );
});

test('uprobe on "libc" by name with a pid: the library that process maps, a versioned dynamic symbol', async (t) => {
  if (!needsKernel(t, unavailable)) return;
  const bin = fixture("uprobe_target");
  using prog = countingProgram({ type: ProgType.KPROBE, name: "up_libc", ret: 0 });
  const child = spawn(bin, ["2", "--wait"], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    assert.match((await lines.next()).value as string, /^ready \d+$/);
    // The target prints its result with printf after we let it go.
    using link = attachUprobe(prog, {
      binary: "libc",
      symbol: "printf@@GLIBC_2.2.5",
      pid: child.pid!,
    });
    assert.match(link.description, /libc\.so\.6:printf@@GLIBC_2\.2\.5/);
    assert.equal(prog.read(), 0n);
    child.stdin!.write("go\n");
    await once(child, "exit");
    assert.ok(prog.read() >= 1n, "printf in the target's libc was probed");
  } finally {
    child.kill("SIGKILL");
  }
});
