// Proves the clang-built fixtures are sound: every object in test/fixtures/obj loads with
// `bpftool prog loadall` (libbpf), except the ones that must fail, which must fail for the
// stated reason. Other tests rely on the program and map names checked here.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kernelUnavailable, needsKernel } from "../support/kernel.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const objDir = join(root, "test", "fixtures", "obj");
const bpffs = "/sys/fs/bpf";

/** What loading one fixture with bpftool must do on this kernel. */
interface Expectation {
  /** Program names pinned by loadall (exactly these). */
  programs?: string[];
  /** Map names pinned by `pinmaps` (bpftool writes '.' in internal map names as '_'). */
  maps?: string[];
  /** The load must fail, with stderr matching this pattern. */
  fails?: RegExp;
  /** Either loads or fails with a stderr matching this (kernel-dependent feature). */
  mayFail?: RegExp;
  /** Extra `bpftool prog loadall` arguments. */
  args?: () => string[];
  /** Checks the documented behaviour while the programs and maps are pinned. */
  behaves?: (pins: Pins) => void;
}

/** Pinned programs and maps of one loaded object, driven through bpftool. */
interface Pins {
  /** BPF_PROG_TEST_RUN of a program with a frame; returns the program's return value. */
  run(prog: string, frame: Uint8Array, repeat?: number): number;
  /** Value bytes of map[key] (u32 key), summed over CPUs as u64 for per-CPU maps. */
  lookup(map: string, key: number): Buffer;
}

/** An Ethernet + IPv4 + UDP frame to 10.0.0.2:dport, padded with zeros to `size` bytes. */
function udpFrame(dport: number, size = 42): Uint8Array {
  const f = Buffer.alloc(Math.max(size, 42));
  f.writeUInt16BE(0x0800, 12); // IPv4
  f.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  f.writeUInt16BE(40000, 34);
  f.writeUInt16BE(dport, 36);
  f.writeUInt16BE(8, 38);
  return f;
}

const u64 = (b: Buffer, off = 0) => b.readBigUInt64LE(off);

const counterMap = ["open_count", "events"];
const expectations: Record<string, Expectation> = {
  xdp_count: {
    programs: ["xdp_count_prog"],
    maps: ["proto_count"],
    behaves: (p) => {
      assert.equal(p.run("xdp_count_prog", udpFrame(53), 3), 2);
      assert.equal(u64(p.lookup("proto_count", 17)), 3n);
    },
  },
  xdp_drop_udp_port: {
    programs: ["xdp_drop_udp"],
    maps: ["drop_stats", "xdp_drop_rodata"],
    behaves: (p) => {
      assert.equal(p.run("xdp_drop_udp", udpFrame(9999)), 1);
      assert.equal(p.run("xdp_drop_udp", udpFrame(53)), 2);
      assert.equal(u64(p.lookup("drop_stats", 0)), 1n);
      assert.equal(u64(p.lookup("drop_stats", 1)), 1n);
    },
  },
  tc_count: {
    programs: ["tc_count_prog"],
    maps: ["tc_stats"],
    behaves: (p) => {
      assert.equal(p.run("tc_count_prog", udpFrame(53, 60), 2), 0);
      const stats = p.lookup("tc_stats", 0);
      assert.deepEqual([u64(stats, 0), u64(stats, 8)], [2n, 120n]);
    },
  },
  // libbpf < 1.3 does not know "tcx/" sections; tell it the program type.
  tcx_count: {
    programs: ["tcx_ingress", "tcx_egress"],
    maps: ["tcx_stats"],
    args: () => (libbpfAtLeast(1, 3) ? [] : ["type", "tc"]),
    behaves: (p) => {
      assert.equal(p.run("tcx_ingress", udpFrame(53)), 0xffffffff); // TCX_NEXT (-1)
      assert.equal(u64(p.lookup("tcx_stats", 0)), 1n);
    },
  },
  tp_openat: {
    programs: ["tp_openat_prog"],
    maps: [...counterMap, "tp_opena_rodata", "tp_opena_bss"],
  },
  perf_openat: {
    programs: ["perf_openat_prog"],
    maps: [...counterMap, "perf_ope_rodata", "perf_ope_bss"],
  },
  raw_tp: {
    programs: ["raw_tp_sys_enter"],
    maps: ["syscall_total", "syscall_count", "raw_tp_rodata"],
  },
  tp_btf: {
    programs: ["tp_btf_sys_enter"],
    maps: ["syscall_count", "last_arg0", "tp_btf_rodata"],
  },
  uprobe: {
    programs: ["uprobe_entry", "uprobe_return"],
    maps: ["events", "hits", "uprobe_rodata"],
  },
  uprobe_named: {
    programs: ["add_entry", "add_return", "sub_entry", "sub_return", "bare_entry"],
    maps: ["hits", "args"],
  },
  kconfig: {
    programs: ["copy_kconfig"],
    maps: ["kconfig_bss", "kconfig_kconfig"],
  },
  // ksyms_percpu needs runqueues in kallsyms (CONFIG_KALLSYMS_ALL), which not every kernel has.
  ksyms: {
    mayFail: /ldimm64 failed to find the address for kernel symbol 'runqueues'/,
  },
  // KPROBE programs load without CONFIG_KPROBES; only attaching needs it.
  kprobe: {
    programs: ["openat2_entry", "openat2_exit"],
    maps: ["inflight", "events", "kprobe_rodata"],
  },
  // BPF trampolines are missing on the development kernel (EPERM); VM kernels load them.
  fentry: {
    programs: ["unlink_entry", "unlink_exit"],
    maps: ["events", "fentry_rodata"],
    mayFail: /Operation not permitted/,
  },
  socket_filter: {
    programs: ["socket_count"],
    maps: ["sock_stats"],
    behaves: (p) => {
      assert.equal(p.run("socket_count", udpFrame(53, 64), 2), 50);
      const stats = p.lookup("sock_stats", 0);
      assert.deepEqual([u64(stats, 0), u64(stats, 8)], [2n, 100n]);
    },
  },
  cgroup_skb: {
    programs: ["cgroup_ingress", "cgroup_egress"],
    maps: ["cg_stats"],
    behaves: (p) => {
      assert.equal(p.run("cgroup_ingress", udpFrame(53)), 1);
      assert.equal(p.run("cgroup_egress", udpFrame(53)), 1);
      assert.equal(u64(p.lookup("cg_stats", 0)), 1n);
      assert.equal(u64(p.lookup("cg_stats", 1)), 1n);
    },
  },
  maps_all: {
    programs: ["xdp_exercise", "xdp_entry", "xdp_tail", "tp_stack"],
    maps: [
      "hash_map",
      "array_map",
      "percpu_hash",
      "percpu_array",
      "lru_hash",
      "lpm_trie",
      "perf_events",
      "ringbuf",
      "jump_table",
      "stack_traces",
      "queue",
      "stack",
      "inner_array",
      "array_of_maps",
      "hash_of_maps",
      "maps_all_rodata",
    ],
    behaves: (p) => {
      // The prog array was filled from its declaration: the tail call lands in xdp_tail.
      assert.equal(p.run("xdp_entry", udpFrame(53)), 1);
      assert.equal(u64(p.lookup("array_map", 3)), 1n);
      assert.equal(p.run("xdp_exercise", udpFrame(53)), 2);
      assert.equal(u64(p.lookup("array_map", 0)), 1n);
      assert.equal(u64(p.lookup("hash_map", 1)), 1n);
      assert.equal(u64(p.lookup("percpu_hash", 1)), 1n);
      assert.equal(u64(p.lookup("lru_hash", 1)), 1n);
      // array_of_maps[0] was initialized with inner_array.
      assert.equal(u64(p.lookup("inner_array", 0)), 1n);
    },
  },
  legacy_maps: { fails: /legacy map definitions in 'maps' section are not supported/ },
  globals: {
    programs: ["globals_xdp"],
    maps: ["globals_rodata", "globals_data", "globals_bss", "_data_custom"],
    behaves: (p) => {
      assert.equal(p.run("globals_xdp", udpFrame(53, 60), 2), 2);
      assert.equal(u64(p.lookup("globals_data", 0)), 102n); // counter = 100 + 2 * increment
      const bss = p.lookup("globals_bss", 0); // runs, then pkt { last_len, max_len }
      assert.deepEqual([u64(bss), bss.readUInt32LE(8), bss.readUInt32LE(12)], [2n, 60, 60]);
      assert.equal(p.lookup("_data_custom", 0).readUInt32LE(0), 9);
      const rodata = p.lookup("globals_rodata", 0); // increment, then greeting
      assert.equal(rodata.readUInt32LE(0), 1);
      assert.equal(rodata.subarray(4, 12).toString("latin1"), "tsbpf\0\0\0");
    },
  },
  subprog: {
    programs: ["subprog_a", "subprog_b"],
    maps: ["results"],
    behaves: (p) => {
      assert.equal(p.run("subprog_a", udpFrame(53, 64)), 2);
      assert.equal(p.run("subprog_a", udpFrame(53, 1000)), 1);
      assert.equal(p.run("subprog_b", udpFrame(53, 64)), 1);
      assert.equal(u64(p.lookup("results", 0)), 1000n * 31n + 1n);
      assert.equal(u64(p.lookup("results", 1)), 64n * 31n + 2n);
    },
  },
  // The log must carry the source line (from .BTF.ext line info) of the rejected read.
  verifier_reject: {
    fails:
      /eth->h_proto == bpf_htons\(ETH_P_IP\)\) @ verifier_reject\.bpf\.c:21[^]*invalid access to packet/,
  },
  core_kernel: { programs: ["core_btf", "core_skb", "core_task"] },
  core_local: { programs: ["local_btf", "local_skb", "local_task"] },
  // libbpf poisons the unresolvable read; the verifier reaches it (test/kernel/loader/core.test.ts)
  core_missing: {
    fails:
      /failed to resolve CO-RE relocation <byte_off> \[\d+\] struct task_struct___tsbpf\.tsbpf_no_such_field/,
  },
  trace_http: { programs: ["trace_http"], maps: ["requests"] },
  trace_http_ringbuf: { programs: ["trace_http"], maps: ["requests", "trace_ht_bss"] },
};

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: root });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

let libbpfVersion: [number, number] | undefined;
function libbpfAtLeast(major: number, minor: number): boolean {
  if (!libbpfVersion) {
    const m = /libbpf v(\d+)\.(\d+)/.exec(run("bpftool", ["version"]).out);
    libbpfVersion = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  }
  const [a, b] = libbpfVersion;
  return a > major || (a === major && b >= minor);
}

const why =
  kernelUnavailable() ?? (existsSync("/usr/sbin/bpftool") ? undefined : "bpftool missing");

before(() => {
  if (why !== undefined) return;
  const setup = run(join(root, "scripts", "kernel-setup.sh"), []);
  assert.equal(setup.status, 0, setup.out);
  const build = run(join(root, "scripts", "build-fixtures.sh"), []);
  assert.equal(build.status, 0, `scripts/build-fixtures.sh failed:\n${build.out}`);
});

function pinsOf(progDir: string, mapDir: string): Pins {
  return {
    run(prog, frame, repeat = 1) {
      const dir = mkdtempSync(join(tmpdir(), "tsbpf-frame-"));
      try {
        const file = join(dir, "frame.bin");
        writeFileSync(file, frame);
        const args = ["prog", "run", "pinned", join(progDir, prog), "data_in", file];
        const r = run("bpftool", [...args, "repeat", String(repeat)]);
        assert.equal(r.status, 0, `bpftool prog run ${prog} failed:\n${r.out}`);
        const m = /Return value: (\d+)/.exec(r.out);
        assert.ok(m, `no return value in bpftool output:\n${r.out}`);
        return Number(m[1]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    lookup(map, key) {
      const k = [0, 8, 16, 24].map((s) => String((key >>> s) & 0xff));
      const r = run("bpftool", ["-j", "map", "lookup", "pinned", join(mapDir, map), "key", ...k]);
      assert.equal(r.status, 0, `bpftool map lookup ${map}[${key}] failed:\n${r.out}`);
      const parsed = JSON.parse(r.out) as { value?: string[]; values?: { value: string[] }[] };
      const bytes = (hex: string[]) => Buffer.from(hex.map((h) => Number.parseInt(h, 16)));
      if (parsed.value) return bytes(parsed.value);
      assert.ok(parsed.values, `unexpected bpftool output:\n${r.out}`);
      const sum = parsed.values.reduce((acc, v) => acc + u64(bytes(v.value)), 0n);
      const out = Buffer.alloc(8);
      out.writeBigUInt64LE(sum);
      return out;
    },
  };
}

/** Loads one object, checks the outcome, and always removes the pins. */
function loadall(name: string, exp: Expectation): void {
  const progDir = join(bpffs, `tsbpf-test-${name}`);
  const mapDir = join(bpffs, `tsbpf-test-${name}-maps`);
  const cleanup = () => {
    rmSync(progDir, { recursive: true, force: true });
    rmSync(mapDir, { recursive: true, force: true });
  };
  cleanup();
  try {
    const obj = join(objDir, `${name}.o`);
    const r = run("bpftool", [
      "prog",
      "loadall",
      obj,
      progDir,
      ...(exp.args?.() ?? []),
      "pinmaps",
      mapDir,
    ]);
    if (exp.fails) {
      assert.notEqual(r.status, 0, `${name}.o loaded but must be rejected`);
      assert.match(r.out, exp.fails, `${name}.o failed for another reason:\n${r.out}`);
      return;
    }
    if (r.status !== 0 && exp.mayFail?.test(r.out)) return;
    assert.equal(r.status, 0, `bpftool prog loadall ${name}.o failed:\n${r.out}`);
    if (exp.programs) assert.deepEqual(readdirSync(progDir).sort(), [...exp.programs].sort());
    if (exp.maps) assert.deepEqual(readdirSync(mapDir).sort(), [...exp.maps].sort());
    exp.behaves?.(pinsOf(progDir, mapDir));
  } finally {
    cleanup();
  }
  assert.ok(!existsSync(progDir) && !existsSync(mapDir), `pins of ${name} left behind`);
}

test("every documented fixture was built", (t) => {
  if (!needsKernel(t, why)) return;
  const missing = Object.keys(expectations).filter((n) => !existsSync(join(objDir, `${n}.o`)));
  assert.deepEqual(missing, [], "run scripts/build-fixtures.sh");
  for (const exe of ["uprobe_target", "uprobe_target_shared", "libtsbpf_target.so"]) {
    assert.ok(existsSync(join(objDir, exe)), `${exe} missing: run scripts/build-fixtures.sh`);
  }
});

// One subtest per object, including objects other engineers add (expected to load).
test("bpftool prog loadall on every fixture object", async (t) => {
  if (!needsKernel(t, why)) return;
  const objects = readdirSync(objDir)
    .filter((f) => f.endsWith(".o"))
    .map((f) => f.slice(0, -2))
    .sort();
  assert.ok(objects.length > 0, "no objects in test/fixtures/obj: run scripts/build-fixtures.sh");
  for (const name of objects) {
    await t.test(name, () => loadall(name, expectations[name] ?? {}));
  }
});
