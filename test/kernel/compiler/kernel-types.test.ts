// Probes that read kernel structs (issue 13.3/13.4a): declarations generated from the running
// kernel's BTF (btfToTs, as `tsbpf btf gen` writes them), one probe reading task_struct,
// linux_binprm → file → inode/dentry and sk_buff → net_device fields in tp_btf (direct BTF
// loads), a tracepoint record typed by trace_event_raw_sched_process_exec (with its
// __data_loc filename), and a kprobe (probe reads). Every read is a CO-RE relocation:
// - the values are right with the declarations as generated, AND with declarations whose every
//   offset and size was moved (a kernel whose layout differs from this one), which only holds
//   when the loader really relocates each access;
// - libbpf (bpftool prog loadall) loads the same object to the same instructions as our loader.
// The VM matrix (node scripts/vm/run.js --kernel 6.1,6.12 --only <this file>) runs this same
// file on kernels where these structs have other offsets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import {
  closeSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import type { IterLink } from "../../../src/link/iter.js";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { Collection } from "../../../src/load/collection.js";
import { Program } from "../../../src/load/program.js";
import { progXlatedInsns } from "../../../src/sys/info.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { LazyBtf } from "../../../src/obj/btf.js";
import { btfToTs } from "../../../src/obj/btf-to-ts.js";
import { parseObject } from "../../../src/obj/object.js";
import { featureMissing, kernelVersion, needsKernel } from "../../support/kernel.js";

const TYPES = [
  "task_struct",
  "linux_binprm",
  "sk_buff",
  "file",
  "trace_event_raw_sched_process_exec",
];

const EMPTY = `{ pid: 0, tgid: 0, ppid: 0, state: 0, ino: 0n, dino: 0n, version: 0, bpf: 0,
    comm: new Uint8Array(16), file: new Uint8Array(64) }`;

/** fentry: loaded only where the kernel can attach trampolines (libbpf loads every program). */
const FENTRY = `
export const exec_fentry = fentry("security_bprm_check", (ctx) => {
  const t = currentTask<task_struct>();
  if (t.real_parent.tgid !== target.value) return 0;
  const bprm = kernelPtr<linux_binprm>(ctx.arg(0));
  const e: Exec = ${EMPTY};
  e.pid = t.pid;
  e.tgid = t.tgid;
  e.ppid = t.real_parent.tgid;
  e.ino = bprm.file.f_inode.i_ino;
  e.dino = bprm.file.f_path.dentry.d_inode.i_ino;
  execs.set(4, e);
  return 0;
});
`;

const PROBE = `import { program, map, tpBtf, tracepoint, kprobe, fentry, iter, config, HashMap, kernelPtr, currentTask,
  exists, addressOf, kernelVersion, kconfig, dataLoc, probeReadKernelStr, pidTgid, toNumber,
  type TracepointContext } from "tsbpf/probe";
import { array, struct, u8, u16, u32, u64, type Infer } from "tsbpf/types";
import type { task_struct, linux_binprm, sk_buff, file, trace_event_raw_sched_process_exec } from "./vmlinux.js";
program({ license: "GPL" });
const Exec = struct("Exec", { pid: u32, tgid: u32, ppid: u32, state: u32, ino: u64, dino: u64,
  version: u32, bpf: u32, comm: array(u8, 16), file: array(u8, 64) });
type Exec = Infer<typeof Exec>;
const Skb = struct("Skb", { len: u32, protocol: u16, pad: u16, ifindex: u32, pid: u32 });
const target = config("target", u32, 0);
const execs = map("execs", new HashMap(u32, Exec, { maxEntries: 16 }));
const skbs = map("skbs", new HashMap(u32, Skb, { maxEntries: 16 }));

export const exec_btf = tpBtf("sched_process_exec", (ctx) => {
  const task = kernelPtr<task_struct>(ctx.arg(0));
  if (task.real_parent.tgid !== target.value) return 0;
  const bprm = kernelPtr<linux_binprm>(ctx.arg(2));
  const e: Exec = ${EMPTY};
  e.pid = task.pid;
  e.tgid = currentTask<task_struct>().tgid;
  e.ppid = task.real_parent.tgid;
  e.state = exists(task.__state) ? 1 : 0;
  e.ino = bprm.file.f_inode.i_ino;
  e.dino = bprm.file.f_path.dentry.d_inode.i_ino;
  e.version = kernelVersion();
  e.bpf = kconfig("CONFIG_BPF_SYSCALL");
  probeReadKernelStr(e.comm, addressOf(task.comm));
  execs.set(1, e);
  return 0;
});

export const exec_tp = tracepoint("sched", "sched_process_exec",
  (ctx: TracepointContext<trace_event_raw_sched_process_exec>) => {
    const t = currentTask<task_struct>();
    if (t.real_parent.tgid !== target.value) return 0;
    const e: Exec = ${EMPTY};
    e.pid = ctx.fields.pid;
    e.tgid = ctx.fields.old_pid;
    e.ppid = t.real_parent.tgid;
    probeReadKernelStr(e.file, dataLoc(ctx.fields.__data_loc_filename));
    execs.set(2, e);
    return 0;
  });

export const xmit_btf = tpBtf("net_dev_queue", (ctx) => {
  if (toNumber(pidTgid() >> 32n) !== target.value) return 0;
  const skb = kernelPtr<sk_buff>(ctx.arg(0));
  skbs.set(1, { len: skb.len, protocol: skb.protocol, pad: skb.ip_summed | (skb.pkt_type << 8), ifindex: skb.dev.ifindex, pid: currentTask<task_struct>().tgid });
  return 0;
});

const Fd = struct("Fd", { ino: u64, ppid: u32, tgid: u32 });
const fds = map("fds", new HashMap(u32, Fd, { maxEntries: 256 }));
export const task_files = iter("task_file", (ctx) => {
  const task = kernelPtr<task_struct | null>(ctx.arg(1));
  const f = kernelPtr<file | null>(ctx.arg(3));
  if (!task || !f) return 0;
  if (task.tgid !== target.value) return 0;
  fds.set(toNumber(ctx.arg(2) & 0xffffffffn), { ino: f.f_path.dentry.d_inode.i_ino, ppid: task.real_parent.tgid, tgid: task.tgid });
  return 0;
});

export const exec_kprobe = kprobe((regs) => {
  const t = currentTask<task_struct>();
  if (t.real_parent.tgid !== target.value) return 0;
  const bprm = kernelPtr<linux_binprm>(regs.parm1());
  const e: Exec = ${EMPTY};
  e.pid = t.pid;
  e.tgid = t.tgid;
  e.ppid = t.real_parent.tgid;
  e.ino = bprm.file.f_inode.i_ino;
  e.dino = bprm.file.f_path.dentry.d_inode.i_ino;
  probeReadKernelStr(e.comm, addressOf(t.comm));
  execs.set(3, e);
  return 0;
}, "security_bprm_check");
`;

/**
 * How the probe sees the kernel's structs: declared from this kernel's BTF ("generated"), the
 * same with every offset and size moved ("skewed": a layout no kernel has), or the committed
 * declarations of Linux 6.18 (test/fixtures/probes/kernel-types/vmlinux-6.18.d.ts: the members
 * this probe reads, as `tsbpf btf gen` wrote them on the development machine) — the object
 * built from those is the same bytes on every kernel, and the VM matrix runs it on 6.1/6.12.
 */
type Decls = "generated" | "skewed" | "6.18";
const DECLS: readonly Decls[] = ["generated", "skewed", "6.18"];
const FIXTURE = fileURLToPath(
  new URL("../../../../test/fixtures/probes/kernel-types/vmlinux-6.18.d.ts", import.meta.url),
);

function declarations(kind: Decls): string {
  if (kind === "6.18") return readFileSync(FIXTURE, "utf8");
  const btf = LazyBtf.parse(readFileSync("/sys/kernel/btf/vmlinux"), { label: "vmlinux" });
  const { text } = btfToTs(btf, { types: TYPES, depth: 3 });
  if (kind === "generated") return text;
  // Another kernel's layout: each member 8 bytes further, each struct 64 bytes larger.
  return text
    .replace(/@btf (struct|union) (\S+) (\d+)/g, (_, k, n, s) => `@btf ${k} ${n} ${Number(s) + 64}`)
    .replace(/@btf (\d+) /g, (_, o) => `@btf ${Number(o) + 8} `);
}

function build(kind: Decls, withFentry = true): Uint8Array {
  // a fixed path: the object (its line info names the file) is the same wherever it is built
  const dir = `/tmp/tsbpf-virtual/kernel-types-${kind}${withFentry ? "" : "-no-fentry"}`;
  const compiled = compileProbe(`${dir}/probe.ts`, {
    sources: new Map([
      [`${dir}/probe.ts`, PROBE + (withFentry ? FENTRY : "")],
      [`${dir}/vmlinux.d.ts`, declarations(kind)],
    ]),
  });
  return compiled.elf;
}

interface Exec {
  pid: number;
  tgid: number;
  ppid: number;
  state: number;
  ino: bigint;
  dino: bigint;
  version: number;
  bpf: number;
  comm: string;
  file: string;
}
const str = (b: Uint8Array): string => Buffer.from(b.subarray(0, b.indexOf(0))).toString();
function decodeExec(v: Uint8Array): Exec {
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return {
    pid: dv.getUint32(0, true),
    tgid: dv.getUint32(4, true),
    ppid: dv.getUint32(8, true),
    state: dv.getUint32(12, true),
    ino: dv.getBigUint64(16, true),
    dino: dv.getBigUint64(24, true),
    version: dv.getUint32(32, true),
    bpf: dv.getUint32(36, true),
    comm: str(v.subarray(40, 56)),
    file: str(v.subarray(56, 120)),
  };
}
const key = (k: number): Uint8Array => new Uint8Array(new Uint32Array([k]).buffer);

/** Runs /bin/true (exec from this process) and one UDP datagram on loopback. */
async function trigger(): Promise<{ pid: number }> {
  const { pid, status } = spawnSync("/bin/true");
  assert.equal(status, 0);
  const sock = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    sock.bind(0, "127.0.0.1", () => {
      const port = sock.address().port;
      sock.send(Buffer.alloc(100), port, "127.0.0.1", (e) => (e ? reject(e) : resolve()));
    });
  });
  sock.close();
  return { pid };
}

function expectedVersion(): number {
  const [a, b, c] = kernelVersion();
  return (a << 16) | (b << 8) | Math.min(c, 255);
}

for (const skew of DECLS) {
  test(`kernel structs in tp_btf and tracepoint programs read the right values (declarations ${skew})`, async (t) => {
    if (!needsKernel(t, { minKernel: "5.11" })) return;
    const elf = build(skew);
    t.diagnostic(`object sha256 ${createHash("sha256").update(elf).digest("hex")}`);
    const obj = parseObject(elf);
    for (const p of obj.programs)
      assert.ok(p.coreRelos.length > 0, `${p.name} has CO-RE relocations`);
    using c = Collection.load(elf, {
      globals: { target: process.pid },
      autoload: { exec_kprobe: false, exec_fentry: false },
    });
    const links = ["exec_btf", "exec_tp", "xmit_btf"].map((n) => c.program(n).attach());
    let child: number;
    try {
      child = (await trigger()).pid;
    } finally {
      for (const l of links) l.close();
    }
    const bin = realpathSync("/bin/true");
    const ino = BigInt(statSync(bin).ino);
    const btf = c.map("execs").get(key(1));
    assert.ok(btf, "the tp_btf program saw the exec");
    assert.deepEqual(decodeExec(btf), {
      pid: child,
      tgid: child,
      ppid: process.pid,
      state: 1,
      ino,
      dino: ino,
      version: expectedVersion(),
      bpf: 1,
      comm: "true",
      file: "",
    });
    const tp = c.map("execs").get(key(2));
    assert.ok(tp, "the tracepoint program saw the exec");
    const rec = decodeExec(tp);
    assert.equal(rec.pid, child);
    assert.equal(rec.tgid, child, "old_pid");
    assert.equal(rec.ppid, process.pid);
    assert.equal(rec.file, "/bin/true", "the __data_loc filename");
    const skb = c.map("skbs").get(key(1));
    assert.ok(skb, "the net_dev_queue program saw the datagram");
    const dv = new DataView(skb.buffer, skb.byteOffset);
    assert.equal(
      dv.getUint32(0, true),
      14 + 20 + 8 + 100,
      "skb->len: ethernet + IP + UDP + payload",
    );
    assert.equal(dv.getUint16(4, true), 0x0008, "skb->protocol: htons(ETH_P_IP)");
    assert.equal(dv.getUint32(8, true), 1, "skb->dev->ifindex: lo");
    assert.equal(dv.getUint32(12, true), process.pid);
    // bit-fields: ip_summed CHECKSUM_PARTIAL (lo offloads the UDP checksum), pkt_type PACKET_HOST
    assert.equal(dv.getUint16(6, true), 3, "skb->ip_summed | skb->pkt_type << 8");
  });
}

test("libbpf (bpftool prog loadall) loads the kernel-struct probe to the same instructions as tsbpf", (t) => {
  if (!needsKernel(t, { minKernel: "5.11" })) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-ktypes-"));
  const pin = `/sys/fs/bpf/tsbpf-ktypes-${process.pid}`;
  const fentry = featureMissing("fentry") === undefined;
  try {
    for (const skew of DECLS) {
      const file = join(dir, `probe-${skew}.o`);
      writeFileSync(file, build(skew, fentry));
      execFileSync("bpftool", ["prog", "loadall", file, pin], { stdio: "pipe" });
      try {
        using c = Collection.load(readFileSync(file));
        const names = ["exec_btf", "exec_tp", "xmit_btf", "task_files", "exec_kprobe"];
        for (const name of fentry ? [...names, "exec_fentry"] : names) {
          using theirs = Program.fromPin(join(pin, name));
          assert.deepEqual(
            xlated(c.program(name).fd),
            xlated(theirs.fd),
            `${name} (${skew} declarations): tsbpf's and libbpf's relocated code`,
          );
        }
      } finally {
        rmSync(pin, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const skew of DECLS)
  test(`an iter/task_file program reads task and file structs (declarations ${skew})`, (t) => {
    if (!needsKernel(t, { minKernel: "5.11" })) return;
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-ktypes-iter-"));
    const fd = openSync(join(dir, "probe-file"), "w");
    try {
      using c = Collection.load(build(skew), {
        globals: { target: process.pid },
        autoload: { exec_kprobe: false, exec_fentry: false },
      });
      const link = c.program("task_files").attach() as IterLink;
      try {
        link.read();
      } finally {
        link.close();
      }
      const v = c.map("fds").get(key(fd));
      assert.ok(v, `the iterator saw fd ${fd}`);
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      assert.equal(
        dv.getBigUint64(0, true),
        BigInt(fstatSync(fd).ino),
        "file->f_path.dentry->d_inode->i_ino",
      );
      assert.equal(dv.getUint32(8, true), process.ppid, "task->real_parent->tgid");
      assert.equal(dv.getUint32(12, true), process.pid, "task->tgid");
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

test("an fentry program reads kernel structs directly", async (t) => {
  if (!needsKernel(t, { minKernel: "5.11", feature: "fentry" })) return;
  for (const skew of DECLS) {
    using c = Collection.load(build(skew), {
      globals: { target: process.pid },
      autoload: { exec_kprobe: false },
    });
    const link = c.program("exec_fentry").attach();
    let child: number;
    try {
      child = (await trigger()).pid;
    } finally {
      link.close();
    }
    const v = c.map("execs").get(key(4));
    assert.ok(v, "the fentry program saw the exec");
    const ino = BigInt(statSync(realpathSync("/bin/true")).ino);
    const e = decodeExec(v);
    assert.equal(e.pid, child);
    assert.equal(e.tgid, child);
    assert.equal(e.ppid, process.pid);
    assert.equal(e.ino, ino);
    assert.equal(e.dino, ino);
  }
});

test("a kprobe reads kernel structs with CO-RE relocated probe reads", async (t) => {
  if (!needsKernel(t, { minKernel: "5.11", feature: "kprobes" })) return;
  for (const skew of DECLS) {
    using c = Collection.load(build(skew), { globals: { target: process.pid } });
    const link = c.program("exec_kprobe").attach();
    let child: number;
    try {
      child = (await trigger()).pid;
    } finally {
      link.close();
    }
    const v = c.map("execs").get(key(3));
    assert.ok(v, "the kprobe saw the exec");
    const ino = BigInt(statSync(realpathSync("/bin/true")).ino);
    const e = decodeExec(v);
    assert.equal(e.pid, child);
    assert.equal(e.tgid, child);
    assert.equal(e.ppid, process.pid);
    assert.equal(e.ino, ino);
    assert.equal(e.dino, ino);
    // before the exec the child still has the comm of the thread that forked it
    assert.equal(e.comm, readFileSync("/proc/self/comm", "utf8").trim());
  }
});

const LDDW = 0x18;
function xlated(fd: number): string[] {
  const raw = progXlatedInsns(fd);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 8) {
    let hex = Buffer.from(raw.subarray(i, i + 8)).toString("hex");
    if (raw[i] === LDDW && [1, 2, 5, 6].includes(raw[i + 1]! >> 4))
      hex = hex.slice(0, 8) + "<map id>";
    out.push(hex);
  }
  return out;
}
