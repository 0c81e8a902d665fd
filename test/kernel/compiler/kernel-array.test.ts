// Indexing array fields of kernel structs (issue 13.3): `task.comm[0]` with a constant index
// is a CO-RE relocation of the element (access "0:N:i", as clang writes `&t->comm[i]`), a
// run-time index is bounded against the declared length and added to the relocated offset of
// the field; an index past the array reads 0. Checked with declarations as generated from this
// kernel and with every offset moved (only right when the loader relocates each access), and
// libbpf (bpftool prog loadall) loads the same object to the same instructions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Collection } from "../../../src/load/collection.js";
import { Program } from "../../../src/load/program.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { LazyBtf } from "../../../src/obj/btf.js";
import { btfToTs } from "../../../src/obj/btf-to-ts.js";
import { parseObject } from "../../../src/obj/object.js";
import { progXlatedInsns } from "../../../src/sys/info.js";
import { needsKernel } from "../../support/kernel.js";

const PROBE = `import { program, map, tpBtf, config, HashMap, kernelPtr } from "tsbpf/probe";
import { array, struct, u8, u32, type Infer } from "tsbpf/types";
import type { task_struct } from "./vmlinux.js";
program({ license: "GPL" });
const Comm = struct("Comm", { c0: u32, c1: u32, at: u32, past: u32, bytes: array(u8, 16) });
type Comm = Infer<typeof Comm>;
const target = config("target", u32, 0);
const ix = config("ix", u32, 2);
const far = config("far", u32, 20);
const comms = map("comms", new HashMap(u32, Comm, { maxEntries: 4 }));

export const exec_comm = tpBtf("sched_process_exec", (ctx) => {
  const task = kernelPtr<task_struct>(ctx.arg(0));
  if (task.real_parent.tgid !== target.value) return 0;
  const c: Comm = { c0: task.comm[0], c1: task.comm[1], at: task.comm[ix.value],
    past: task.comm[far.value] + 1, bytes: new Uint8Array(16) };
  for (let i = 0; i < 16; i++) c.bytes[i] = task.comm[i];
  comms.set(1, c);
  return 0;
});
`;

// Probe reads (currentTask() outside tp_btf) of fields declared with another size than this
// kernel's: pid declared s64 (the kernel's is s32: reading 8 bytes would take tgid along),
// tgid declared u16. Each read is sized by a FIELD_BYTE_SIZE relocation and a signed one is
// sign-extended by relocated shifts, as BPF_CORE_READ with bpf_core_field_size.
const SIZED = `import { program, map, tracepoint, config, HashMap, currentTask } from "tsbpf/probe";
import { struct, u32, u64 } from "tsbpf/types";
import type { task_struct } from "./vmlinux.js";
program({ license: "GPL" });
const Sys = struct("Sys", { nr: u32 });
const target = config("target", u32, 0);
const pids = map("pids", new HashMap(u32, struct("Pids", { pid: u64, tgid: u32, pad: u32 }), { maxEntries: 4 }));
export const sized_tp = tracepoint("syscalls", "sys_enter_getppid", Sys, () => {
  const t = currentTask<task_struct>();
  if (t.tgid !== target.value) return 0;
  pids.set(1, { pid: t.pid, tgid: t.tgid, pad: 0 });
  return 0;
});
`;

function declarationsOf(skewed: boolean): string {
  const btf = LazyBtf.parse(readFileSync("/sys/kernel/btf/vmlinux"), { label: "vmlinux" });
  let { text } = btfToTs(btf, { types: ["task_struct"], depth: 1 });
  if (skewed)
    text = text
      .replace(
        /@btf (struct|union) (\S+) (\d+)/g,
        (_, k, n, s) => `@btf ${k} ${n} ${Number(s) + 64}`,
      )
      .replace(/@btf (\d+) /g, (_, o) => `@btf ${Number(o) + 8} `);
  return text;
}

test("probe reads of fields whose declared size differs from the kernel's", (t) => {
  if (!needsKernel(t, { minKernel: "5.11" })) return;
  const decl = declarationsOf(false)
    .replace(
      /\/\* @btf (\d+) s32 \*\/ readonly pid: number;/,
      "/* @btf $1 s64 */ readonly pid: bigint;",
    )
    .replace(
      /\/\* @btf (\d+) s32 \*\/ readonly tgid: number;/,
      "/* @btf $1 u16 */ readonly tgid: number;",
    );
  assert.match(decl, /s64 \*\/ readonly pid: bigint/);
  const dir = "/tmp/tsbpf-virtual/kernel-sized";
  const elf = compileProbe(`${dir}/probe.ts`, {
    sources: new Map([
      [`${dir}/probe.ts`, SIZED],
      [`${dir}/vmlinux.d.ts`, decl],
    ]),
  }).elf;
  using c = Collection.load(elf, { globals: { target: process.pid } });
  {
    using link = c.program("sized_tp").attach();
    for (let i = 0; i < 3; i++) void process.ppid; // getppid from this (the main) thread
    void link;
  }
  const v = c.map("pids").get(new Uint8Array([1, 0, 0, 0]));
  assert.ok(v, "the program saw getppid (the u16-declared tgid compared whole)");
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  assert.equal(dv.getBigUint64(0, true), BigInt(process.pid), "pid: 4 bytes read, not 8");
  assert.equal(dv.getUint32(8, true), process.pid, "tgid: 4 bytes read, not 2");
});

function build(skewed: boolean): Uint8Array {
  const btf = LazyBtf.parse(readFileSync("/sys/kernel/btf/vmlinux"), { label: "vmlinux" });
  let { text } = btfToTs(btf, { types: ["task_struct"], depth: 1 });
  if (skewed)
    text = text
      .replace(
        /@btf (struct|union) (\S+) (\d+)/g,
        (_, k, n, s) => `@btf ${k} ${n} ${Number(s) + 64}`,
      )
      .replace(/@btf (\d+) /g, (_, o) => `@btf ${Number(o) + 8} `);
  const dir = `/tmp/tsbpf-virtual/kernel-array-${skewed ? "skewed" : "generated"}`;
  return compileProbe(`${dir}/probe.ts`, {
    sources: new Map([
      [`${dir}/probe.ts`, PROBE],
      [`${dir}/vmlinux.d.ts`, text],
    ]),
  }).elf;
}

for (const skewed of [false, true])
  test(`kernel array fields: constant and run-time indexes (declarations ${skewed ? "skewed" : "generated"})`, (t) => {
    if (!needsKernel(t, { minKernel: "5.11" })) return;
    const elf = build(skewed);
    const relos = parseObject(elf).programs.find((p) => p.name === "exec_comm")!.coreRelos;
    const access = new Set(relos.map((r) => r.relo.accessStr));
    // comm[0], comm[1] as element relocations; the run-time ones relocate the field itself.
    const comm = [...access].find((a) => /^0:\d+$/.test(a) && access.has(`${a}:0`));
    assert.ok(comm, `an element access "0:N:0" beside the field's "0:N": ${[...access].join(" ")}`);
    assert.ok(access.has(`${comm}:1`));
    using c = Collection.load(elf, { globals: { target: process.pid } });
    {
      using link = c.program("exec_comm").attach();
      assert.equal(spawnSync("/bin/true").status, 0);
      void link;
    }
    const v = c.map("comms").get(new Uint8Array([1, 0, 0, 0]));
    assert.ok(v, "the program saw the exec");
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    const ch = (s: string) => s.charCodeAt(0);
    assert.deepEqual(
      [dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true)],
      [ch("t"), ch("r"), ch("u"), 1],
      "comm[0], comm[1], comm[ix = 2], comm[far = 20] + 1 (past the array: 0)",
    );
    assert.equal(Buffer.from(v.subarray(16, 20)).toString(), "true");
    assert.equal(v[20], 0);
  });

test("libbpf loads the array-indexing probe to the same instructions as tsbpf", (t) => {
  if (!needsKernel(t, { minKernel: "5.11" })) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-karray-"));
  const pin = `/sys/fs/bpf/tsbpf-karray-${process.pid}`;
  try {
    for (const skewed of [false, true]) {
      const file = join(dir, `probe-${skewed}.o`);
      writeFileSync(file, build(skewed));
      execFileSync("bpftool", ["prog", "loadall", file, pin], { stdio: "pipe" });
      try {
        using c = Collection.load(readFileSync(file));
        using theirs = Program.fromPin(join(pin, "exec_comm"));
        assert.deepEqual(
          xlated(c.program("exec_comm").fd),
          xlated(theirs.fd),
          `skewed ${skewed}: tsbpf's and libbpf's relocated code`,
        );
      } finally {
        rmSync(pin, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The translated instructions as hex, map ids masked (each loader made its own maps). */
function xlated(fd: number): string[] {
  const raw = progXlatedInsns(fd);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 8) {
    let hex = Buffer.from(raw.subarray(i, i + 8)).toString("hex");
    if (raw[i] === 0x18 && [1, 2, 5, 6].includes(raw[i + 1]! >> 4))
      hex = hex.slice(0, 8) + "<map id>";
    out.push(hex);
  }
  return out;
}

// kprobes: the pointer from bpf_get_current_task is read with probe reads, so the element
// reads go through bpf_probe_read_kernel (constant index: the element's offset relocated;
// run-time index: bounded, added to the field's relocated offset). Runs where kprobes exist
// (the VM matrix); the development kernel has none.
const KPROBE = `import { program, map, kprobe, config, HashMap, currentTask } from "tsbpf/probe";
import { array, struct, u8, u32, type Infer } from "tsbpf/types";
import type { task_struct } from "./vmlinux.js";
program({ license: "GPL" });
const Comm = struct("Comm", { c0: u32, at: u32, past: u32, tgid: u32, bytes: array(u8, 16) });
type Comm = Infer<typeof Comm>;
const target = config("target", u32, 0);
const ix = config("ix", u32, 1);
const far = config("far", u32, 99);
const comms = map("comms", new HashMap(u32, Comm, { maxEntries: 4 }));
export const getppid_k = kprobe(() => {
  const t = currentTask<task_struct>();
  if (t.tgid !== target.value) return 0;
  const c: Comm = { c0: t.comm[0], at: t.comm[ix.value], past: t.comm[far.value] + 1,
    tgid: t.tgid, bytes: new Uint8Array(16) };
  for (let i = 0; i < 16; i++) c.bytes[i] = t.comm[i];
  comms.set(1, c);
  return 0;
}, "__x64_sys_getppid");
`;

for (const skewed of [false, true])
  test(`kernel array fields through probe reads in a kprobe (declarations ${skewed ? "skewed" : "generated"})`, (t) => {
    if (!needsKernel(t, { minKernel: "5.11", feature: "kprobes" })) return;
    if (process.arch !== "x64") return t.skip("the probe names the x86-64 syscall function");
    const dir = `/tmp/tsbpf-virtual/kernel-array-kprobe-${skewed}`;
    const elf = compileProbe(`${dir}/probe.ts`, {
      sources: new Map([
        [`${dir}/probe.ts`, KPROBE],
        [`${dir}/vmlinux.d.ts`, declarationsOf(skewed)],
      ]),
    }).elf;
    using c = Collection.load(elf, { globals: { target: process.pid } });
    {
      using link = c.program("getppid_k").attach();
      for (let i = 0; i < 3; i++) void process.ppid;
      void link;
    }
    const v = c.map("comms").get(new Uint8Array([1, 0, 0, 0]));
    assert.ok(v, "the kprobe saw getppid");
    const comm = readFileSync("/proc/self/comm", "utf8").trim();
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    assert.deepEqual(
      [dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true)],
      [comm.charCodeAt(0), comm.charCodeAt(1), 1, process.pid],
      "comm[0], comm[ix = 1], comm[far = 99] + 1, tgid",
    );
    assert.equal(Buffer.from(v.subarray(16, 16 + comm.length)).toString(), comm);
  });
