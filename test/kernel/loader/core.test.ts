// CO-RE relocations applied by the loader, against the running kernel: the clang fixtures
// core_kernel (vmlinux.h types) and core_local (hand-written structs whose layout differs from
// the kernel's) must load to exactly the instructions libbpf produces (bpftool prog loadall,
// xlated dumps compared) and read the right values when run; core_missing (an unguarded read
// of a field no kernel has) must fail naming the program, the source line and the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collection } from "../../../src/load/collection.js";
import { Program } from "../../../src/load/program.js";
import { progXlatedInsns } from "../../../src/sys/info.js";
import { CoreReloKind, CoreRelocationError } from "../../../src/obj/core.js";
import { VerifierError } from "../../../src/load/verifier.js";
import { BtfBuilder } from "../../../src/obj/btf.js";
import { parseObject } from "../../../src/obj/object.js";
import { resolveCore } from "../../../src/load/core-relocate.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";
import { ROOT } from "../../support/cli-run.js";
import { u32 } from "./helpers.js";

const LDDW = 0x18;
/** Xlated instructions as hex, with map ids (which differ between two loads) blanked. */
function xlated(fd: number): string[] {
  const raw = progXlatedInsns(fd);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 8) {
    let hex = Buffer.from(raw.subarray(i, i + 8)).toString("hex");
    // lddw of a map (fd, value, idx, idx value): the kernel shows the map id in imm
    if (raw[i] === LDDW && [1, 2, 5, 6].includes(raw[i + 1]! >> 4))
      hex = hex.slice(0, 8) + "<map id>";
    out.push(hex);
  }
  return out;
}

/** Each program's xlated code when libbpf (bpftool prog loadall) loads `obj`. */
function libbpfXlated(obj: string): Map<string, string[]> {
  const dir = `/sys/fs/bpf/tsbpf-core-${process.pid}`;
  execFileSync("bpftool", ["prog", "loadall", obj, dir], { stdio: "pipe" });
  try {
    const out = new Map<string, string[]>();
    for (const name of execFileSync("ls", [dir], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)) {
      using p = Program.fromPin(join(dir, name));
      out.set(name, xlated(p.fd));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface CoreOut {
  hits: number;
  tgid: number;
  pid: number;
  ppid: number;
  uid: number;
  subTgid: number;
  comm: string;
  pidExists: number;
  oldExists: number;
  typeExists: number;
  noType: number;
  commSize: number;
  ringbuf: number;
  enumMissing: number;
  matches: number;
  noMatch: number;
  state: number;
  taskSize: bigint;
  pidSigned: number;
  pktType: number;
  ctxPktType: number;
  skbLen: number;
  ctxLen: number;
  btfTgid: number;
  btfPpid: number;
  btfState: number;
  kernelId: number;
  localId: number;
}

/** struct core_out (test/fixtures/c/core_kernel.h). */
function decode(b: Uint8Array): CoreOut {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u = (o: number) => dv.getUint32(o, true);
  const comm = b.subarray(24, 40);
  const end = comm.indexOf(0);
  return {
    hits: u(0),
    tgid: u(4),
    pid: u(8),
    ppid: u(12),
    uid: u(16),
    subTgid: u(20),
    comm: Buffer.from(comm.subarray(0, end < 0 ? 16 : end)).toString(),
    pidExists: u(40),
    oldExists: u(44),
    typeExists: u(48),
    noType: u(52),
    commSize: u(56),
    ringbuf: u(60),
    enumMissing: u(64),
    matches: u(68),
    noMatch: u(72),
    state: u(76),
    taskSize: dv.getBigUint64(80, true),
    pidSigned: u(88),
    pktType: u(92),
    ctxPktType: u(96),
    skbLen: u(100),
    ctxLen: u(104),
    btfTgid: u(108),
    btfPpid: u(112),
    btfState: u(116),
    kernelId: u(120),
    localId: u(124),
  };
}

/** struct task_struct's [id, size] in this kernel's BTF, as bpftool reads them. */
function kernelTaskStruct(): [number, bigint] {
  const raw = execFileSync("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux"], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const m = /^\[(\d+)\] STRUCT 'task_struct' size=(\d+)/m.exec(raw);
  assert.ok(m, "bpftool shows struct task_struct");
  return [Number(m[1]), BigInt(m[2]!)];
}

/** A multicast (or unicast to another host) Ethernet + IPv4 frame of 64 bytes. */
function frame(multicast: boolean): Uint8Array {
  const f = new Uint8Array(64);
  f.set(multicast ? [0x01, 0x00, 0x5e, 0, 0, 1] : [0x02, 0, 0, 0, 0, 1], 0);
  f.set([0x02, 0, 0, 0, 0, 2], 6);
  f.set([0x08, 0x00, 0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17], 12);
  return f;
}

const names: Record<string, [task: string, btf: string, skb: string]> = {
  "core_kernel.o": ["core_task", "core_btf", "core_skb"],
  "core_local.o": ["local_task", "local_btf", "local_skb"],
};

for (const [file, [taskProg, btfProg, skbProg]] of Object.entries(names)) {
  test(`${file}: the translated code equals libbpf's, program by program`, (t) => {
    if (!needsKernel(t)) return;
    const obj = fixture(file);
    const theirs = libbpfXlated(obj);
    using c = Collection.load(readFileSync(obj), { objectName: file.slice(0, -2) });
    assert.deepEqual([...c.programs.keys()].sort(), [...theirs.keys()].sort());
    // the object really needs relocating: its relocations are there (and not all no-ops)
    const relos = c.object.programs.reduce((n, p) => n + p.coreRelos.length, 0);
    assert.ok(relos >= 20, `${file} has ${relos} CO-RE relocations`);
    for (const [name, p] of c.programs) {
      const ours = xlated(p.fd);
      assert.deepEqual(
        ours,
        theirs.get(name),
        `${name}: tsbpf's xlated code differs from libbpf's`,
      );
    }
  });

  test(`${file}: the relocated reads see this process, its parent, its comm`, async (t) => {
    if (!needsKernel(t)) return;
    using c = await Collection.loadFile(fixture(file), { globals: { target_tgid: process.pid } });
    {
      using _a = c.program(taskProg).attach();
      using _b = c.program(btfProg).attach();
      for (let i = 0; i < 5; i++) void process.ppid; // getppid(2): sys_enter fires
    }
    const out = decode(c.map(".bss").get(u32(0))!);
    assert.ok(out.hits > 0, "the raw_tp program ran for this process");
    const comm = readFileSync("/proc/self/comm", "utf8").trim();
    assert.deepEqual(
      {
        tgid: out.tgid,
        pid: out.pid,
        ppid: out.ppid,
        uid: out.uid,
        subTgid: out.subTgid,
        comm: out.comm,
        btfTgid: out.btfTgid,
        btfPpid: out.btfPpid,
      },
      {
        tgid: process.pid,
        pid: process.pid, // the main thread makes the calls
        ppid: process.ppid,
        uid: process.getuid!(),
        subTgid: process.pid,
        comm,
        btfTgid: process.pid,
        btfPpid: process.ppid,
      },
    );
    assert.deepEqual(
      {
        pidExists: out.pidExists,
        oldExists: out.oldExists,
        typeExists: out.typeExists,
        noType: out.noType,
        commSize: out.commSize,
        ringbuf: out.ringbuf,
        enumMissing: out.enumMissing,
        matches: out.matches,
        noMatch: out.noMatch,
        pidSigned: out.pidSigned,
        state: out.state,
        btfState: out.btfState,
      },
      {
        pidExists: 1,
        oldExists: 0, // task_struct.state became __state in 5.14
        typeExists: 1,
        noType: 0,
        commSize: 16,
        ringbuf: 27, // BPF_MAP_TYPE_RINGBUF
        enumMissing: 0,
        matches: 1,
        noMatch: 0,
        pidSigned: 1, // pid_t is int
        state: 0, // TASK_RUNNING while making a syscall
        btfState: 0,
      },
    );
    const [id, size] = kernelTaskStruct();
    assert.equal(out.taskSize, size);
    assert.equal(out.kernelId, id);
    const local = c.object.btf!.findByName("struct", "task_struct")!.id;
    assert.equal(out.localId, local);
  });

  test(`${file}: sk_buff's pkt_type bitfield read through CO-RE equals the kernel's own`, (t) => {
    if (!needsKernel(t)) return;
    using c = Collection.load(readFileSync(fixture(file)), { programs: [skbProg] });
    // eth_type_trans on the test run's loopback device: a group address → PACKET_MULTICAST
    // (2), another host's address → PACKET_OTHERHOST (3)
    for (const [multicast, want] of [
      [true, 2],
      [false, 3],
    ] as const) {
      c.program(skbProg).testRun({ data: frame(multicast) });
      const out = decode(c.map(".bss").get(u32(0))!);
      assert.deepEqual(
        { pktType: out.pktType, ctx: out.ctxPktType, len: out.skbLen },
        { pktType: want, ctx: want, len: out.ctxLen },
      );
      assert.ok(out.ctxLen >= 50);
    }
  });
}

test("core_missing.o: the poisoned read is reached: the error names program, line and field", (t) => {
  if (!needsKernel(t)) return;
  let err: unknown;
  try {
    Collection.load(readFileSync(fixture("core_missing.o"))).close();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof CoreRelocationError, `${(err as Error)?.stack}`);
  assert.equal(err.program, "core_missing");
  assert.match(
    err.message,
    /^program core_missing: instruction \d+ at \S*core_missing\.bpf\.c:2\d:/,
  );
  assert.match(
    err.message,
    /needs the offset of \[\d+\] struct task_struct___tsbpf\.tsbpf_no_such_field /,
  );
  assert.match(err.message, /bpf_core_field_exists/);
  assert.ok(err.cause instanceof VerifierError);
  assert.match(err.cause.log, /invalid func unknown#195896080/);
});

test("btfPath: a file that is not there, an ELF file's .BTF section", (t) => {
  if (!needsKernel(t)) return;
  const obj = readFileSync(fixture("core_local.o"));
  assert.throws(
    () => Collection.load(obj, { btfPath: "/nonexistent/vmlinux.btf" }),
    /cannot read the BTF file \/nonexistent\/vmlinux\.btf/,
  );
  // tsbpf load --btf reaches the loader
  const load = spawnSync(
    process.execPath,
    [
      join(ROOT, "dist/src/cli/bin.js"),
      "load",
      "--btf",
      "/nonexistent/k.btf",
      fixture("core_local.o"),
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.notEqual(load.status, 0);
  assert.match(load.stderr, /cannot read the BTF file \/nonexistent\/k\.btf/);
  // The object's own ELF as the "kernel": every field keeps its compiled value.
  const parsed = parseObject(obj);
  const results = resolveCore(parsed, parsed.programs, fixture("core_local.o"));
  assert.ok(results.size >= 20);
  for (const [relo, r] of results)
    if (relo.kind !== CoreReloKind.TYPE_ID_LOCAL && relo.kind !== CoreReloKind.TYPE_ID_TARGET)
      assert.equal(r.newVal, r.origVal, r.local);
});

test("btfPath: relocations resolve against the given BTF file, not the running kernel", (t) => {
  if (!needsKernel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-core-"));
  try {
    // The running kernel's own BTF through btfPath gives the same code as the default.
    const obj = readFileSync(fixture("core_kernel.o"));
    const code = (opts: { btfPath?: string }) => {
      using c = Collection.load(obj, { programs: ["core_task"], ...opts });
      return xlated(c.program("core_task").fd);
    };
    assert.deepEqual(code({ btfPath: "/sys/kernel/btf/vmlinux" }), code({}));

    // A made-up kernel: sk_buff.len at byte 100, pkt_type at bits 8..10 of byte 120.
    const b = new BtfBuilder();
    const uint = b.addInt("unsigned int", 4, false);
    const u8 = b.addInt("unsigned char", 1, false);
    b.addStruct(
      "sk_buff",
      [
        { name: "len", type: uint, bitOffset: 800 },
        { name: "pkt_type", type: u8, bitOffset: 968, bitfieldSize: 3 },
      ],
      232,
    );
    const path = join(dir, "made-up.btf");
    writeFileSync(path, b.encode());
    const inspect = spawnSync(
      process.execPath,
      [join(ROOT, "dist/src/cli/bin.js"), "inspect", "--btf", path, fixture("core_local.o")],
      { encoding: "utf8" },
    );
    assert.equal(inspect.status, 0, inspect.stderr);
    const rows = inspect.stdout.split("\n").filter((l) => /^\s+local_skb\s/.test(l));
    const row = (kind: string, field: string) =>
      rows
        .find((l) => l.includes(` ${kind} `) && l.includes(`.${field} `))
        ?.trim()
        .split(/\s+/)
        .at(-1);
    assert.equal(row("byte_off", "len"), "100");
    assert.equal(row("byte_off", "pkt_type"), "121"); // the byte holding bits 968..970
    assert.equal(row("rshift_u64", "pkt_type"), "61");
    // task_struct is not in the made-up BTF: field reads are poisoned, existence is 0
    const task = inspect.stdout.split("\n").filter((l) => /^\s+local_task\s/.test(l));
    assert.ok(task.some((l) => / byte_off .*\.tgid .*poisoned/.test(l)));
    assert.ok(task.some((l) => / field_exists .*\.pid .* 0$/.test(l)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
