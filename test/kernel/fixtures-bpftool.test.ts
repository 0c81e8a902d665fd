// Proves the clang-built fixtures are sound: every object in test/fixtures/obj loads with
// `bpftool prog loadall` (libbpf), except the ones that must fail, which must fail for the
// stated reason. Other tests rely on the program and map names checked here.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
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
}

const counterMap = ["open_count", "events"];
const expectations: Record<string, Expectation> = {
  xdp_count: { programs: ["xdp_count_prog"], maps: ["proto_count"] },
  xdp_drop_udp_port: {
    programs: ["xdp_drop_udp"],
    maps: ["drop_stats", "xdp_drop_rodata"],
  },
  tc_count: { programs: ["tc_count_prog"], maps: ["tc_stats"] },
  // libbpf < 1.3 does not know "tcx/" sections; tell it the program type.
  tcx_count: {
    programs: ["tcx_ingress", "tcx_egress"],
    maps: ["tcx_stats"],
    args: () => (libbpfAtLeast(1, 3) ? [] : ["type", "tc"]),
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
  socket_filter: { programs: ["socket_count"], maps: ["sock_stats"] },
  cgroup_skb: { programs: ["cgroup_ingress", "cgroup_egress"], maps: ["cg_stats"] },
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
  },
  legacy_maps: { fails: /legacy map definitions in 'maps' section are not supported/ },
  globals: {
    programs: ["globals_xdp"],
    maps: ["globals_rodata", "globals_data", "globals_bss", "_data_custom"],
  },
  subprog: { programs: ["subprog_a", "subprog_b"], maps: ["results"] },
  verifier_reject: { fails: /invalid access to packet/ },
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
