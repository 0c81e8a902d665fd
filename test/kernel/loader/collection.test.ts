// Collection on clang-built fixture objects: every object the kernel takes loads, with the
// maps the object declares, and the programs do what test/fixtures/c/README.md says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { Collection } from "../../../src/load/collection.js";
import { VerifierError } from "../../../src/load/verifier.js";
import { CoreRelocationError } from "../../../src/obj/core.js";
import { KconfigError } from "../../../src/load/kconfig.js";
import { kernelBtfTypeId } from "../../../src/load/kernel-btf.js";
import { SysError, Errno } from "../../../src/sys/errors.js";
import { MapType, ProgType } from "../../../src/obj/consts.js";
import { featureMissing, needsKernel } from "../../support/kernel.js";
import { bpftoolMap } from "../../support/bpftool.js";
import { fixture } from "../../support/fixtures.js";
import { u32, u64, udpFrame } from "./helpers.js";

const XDP_DROP = 1;
const XDP_PASS = 2;

/** Objects whose load fails by design, and how (fentry only where the kernel refuses it). */
const EXPECTED_FAILURES: Record<string, (e: unknown) => boolean> = {
  ...(featureMissing("fentry") !== undefined && {
    "fentry.o": (e: unknown) =>
      e instanceof SysError && e.errno === Errno.EPERM && /unlink_entry/.test(e.message),
  }),
  "verifier_reject.o": (e) => e instanceof VerifierError,
  // an unguarded read of a field no kernel has: poisoned, reached, named (core.test.ts)
  "core_missing.o": (e) => e instanceof CoreRelocationError,
  // its kfunc bpf_task_from_pid came with Linux 6.2: before, the load names it (ksyms.test.ts)
  ...(kernelBtfTypeId("bpf_task_from_pid", "func") === undefined
    ? {
        "ksyms.o": (e: unknown) =>
          e instanceof KconfigError && /bpf_task_from_pid __ksym/.test(e.message),
      }
    : // a typed per-CPU __ksym needs the variable in kallsyms (CONFIG_KALLSYMS_ALL)
      !/ runqueues$/m.test(readFileSync("/proc/kallsyms", "utf8")) && {
        "ksyms.o": (e: unknown) =>
          e instanceof VerifierError &&
          /failed to find the address for kernel symbol 'runqueues'/.test(e.message),
      }),
};

test("every fixture object loads (fentry: EPERM here; verifier_reject: VerifierError)", async (t) => {
  if (!needsKernel(t)) return;
  const dir = fixture("xdp_count.o").replace(/xdp_count\.o$/, "");
  const objects = readdirSync(dir).filter((f) => f.endsWith(".o"));
  assert.ok(objects.length >= 20, `only ${objects.length} fixture objects`);
  for (const f of objects) {
    const warnings: string[] = [];
    let c: Collection | undefined;
    try {
      c = await Collection.loadFile(dir + f, { onWarning: (m) => warnings.push(m) });
    } catch (e) {
      const expected = EXPECTED_FAILURES[f];
      assert.ok(expected?.(e), `${f}: ${(e as Error).stack}`);
      continue;
    }
    try {
      assert.equal(EXPECTED_FAILURES[f], undefined, `${f} loaded but should not`);
      // No warnings: CO-RE relocations are applied (test/kernel/loader/core.test.ts).
      assert.deepEqual(warnings, [], `${f} loaded with warnings`);
      assert.deepEqual(
        [...c.programs.keys()].sort(),
        c.object.programs.map((p) => p.name).sort(),
        `${f}: every program loaded`,
      );
      for (const p of c.programs.values()) assert.ok(p.info().id > 0);
      assert.equal(c.maps.size, c.object.maps.length);
    } finally {
      c.close();
    }
  }
});

test("maps_all: every map type created with the declared sizes (bpftool agrees)", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("maps_all.o"));
  const cpus = c.map("perf_events").maxEntries;
  const expected: Record<string, [string, number, number, number]> = {
    hash_map: ["hash", 4, 8, 128],
    array_map: ["array", 4, 8, 4],
    percpu_hash: ["percpu_hash", 4, 8, 128],
    percpu_array: ["percpu_array", 4, 8, 1],
    lru_hash: ["lru_hash", 4, 8, 128],
    lpm_trie: ["lpm_trie", 8, 4, 64],
    perf_events: ["perf_event_array", 4, 4, cpus],
    ringbuf: ["ringbuf", 0, 0, 16384],
    jump_table: ["prog_array", 4, 4, 4],
    stack_traces: ["stack_trace", 4, 127 * 8, 256],
    queue: ["queue", 0, 4, 16],
    stack: ["stack", 0, 4, 16],
    inner_array: ["array", 4, 8, 1],
    array_of_maps: ["array_of_maps", 4, 4, 2],
    hash_of_maps: ["hash_of_maps", 4, 4, 8],
    ".rodata": ["array", 4, 4, 1],
  };
  assert.ok(cpus >= 1, "perf event array sized to the CPUs");
  assert.deepEqual([...c.maps.keys()].sort(), Object.keys(expected).sort());
  for (const [name, [type, key, value, max]] of Object.entries(expected)) {
    const m = bpftoolMap(c.map(name).id);
    assert.deepEqual(
      [m.type, m.bytes_key, m.bytes_value, m.max_entries],
      [type, key, value, max],
      `map ${name}`,
    );
  }
  // Kernel names as libbpf gives them: the internal map carries the object name prefix.
  assert.equal(bpftoolMap(c.map(".rodata").id).name, "maps_all.rodata");
  assert.equal(bpftoolMap(c.map("array_of_maps").id).name, "array_of_maps");
  assert.equal(bpftoolMap(c.map(".rodata").id).frozen, 1);
});

test("maps_all: declarative prog array and map-in-map slots, tail call, every map used", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("maps_all.o"), {
    globals: { target_pid: process.pid },
  });
  // jump_table[0] = xdp_tail and array_of_maps[0] = inner_array, filled by the loader
  // (lookups of fd maps return the kernel id of what is stored).
  const id = (v: Uint8Array | undefined) =>
    v && new DataView(v.buffer, v.byteOffset).getUint32(0, true);
  assert.equal(id(c.map("jump_table").get(u32(0))), c.program("xdp_tail").info().id);
  assert.equal(c.map("jump_table").get(u32(1)), undefined);
  assert.equal(id(c.map("array_of_maps").get(u32(0))), c.map("inner_array").id);
  assert.equal(c.map("hash_of_maps").get(u32(7)), undefined);

  // The tail call: xdp_entry jumps to xdp_tail, which drops and counts in array_map[3].
  assert.equal(c.program("xdp_entry").testRun({ data: udpFrame(1) }).retval, XDP_DROP);
  assert.equal(u64(c.map("array_map").get(u32(3))), 1n);

  // LPM trie from JS, then one run of xdp_exercise touches every map.
  const lpm = (len: number, a: number[]) => new Uint8Array([len, 0, 0, 0, ...a]);
  const value = (n: number) => u32(n);
  c.map("lpm_trie").set(lpm(8, [10, 0, 0, 0]), value(8));
  c.map("lpm_trie").set(lpm(16, [10, 1, 0, 0]), value(16));
  assert.equal(c.program("xdp_exercise").testRun({ data: udpFrame(1) }).retval, XDP_PASS);
  const a = c.map("array_map");
  assert.equal(u64(a.get(u32(0))), 1n);
  assert.equal(u64(a.get(u32(1))), 16n, "longest-prefix match 10.1.0.0/16");
  assert.equal(u64(c.map("hash_map").get(u32(1))), 1n);
  assert.equal(u64(c.map("lru_hash").get(u32(1))), 1n);
  assert.equal(u64(c.map("inner_array").get(u32(0))), 1n, "through array_of_maps[0]");
  const sum = (vs: Uint8Array[] | undefined) => vs!.reduce((s, v) => s + u64(v)!, 0n);
  assert.equal(sum(c.map("percpu_hash").perCpu().get(u32(1))), 1n);
  assert.equal(sum(c.map("percpu_array").perCpu().get(u32(0))), 1n);
  assert.deepEqual(c.map("queue").pop(), u32(1));
  assert.deepEqual(c.map("stack").pop(), u32(1));

  // The tracepoint program: a user stack id for our own getppid.
  using link = c.program("tp_stack").attach();
  void process.ppid;
  link.close();
  const stackId = u64(a.get(u32(2)));
  assert.ok(stackId !== undefined && BigInt.asIntN(64, stackId) >= 0n, `stack id ${stackId}`);
  assert.notEqual(c.map("stack_traces").get(u32(Number(stackId))), undefined);
});

test("globals: .rodata overrides before load, .data/.bss/.data.custom read back, .rodata frozen", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("globals.o"), { globals: { increment: 3 } });
  const run = c.program("globals_xdp");
  for (let i = 0; i < 5; i++)
    assert.equal(run.testRun({ data: new Uint8Array(60) }).retval, XDP_PASS);
  const g = (name: string) => c.map(name).get(u32(0))!;
  assert.equal(u64(g(".data")), 115n, "counter = 100 + 5 * 3");
  const bss = g(".bss");
  assert.equal(u64(bss), 5n, "runs");
  assert.deepEqual([...bss.subarray(8, 16)], [60, 0, 0, 0, 60, 0, 0, 0], "pkt = {60, 60}");
  assert.deepEqual([...g(".data.custom")], [12, 0, 0, 0]);
  const ro = g(".rodata");
  assert.equal(new DataView(ro.buffer, ro.byteOffset).getUint32(0, true), 3);
  assert.equal(Buffer.from(ro.subarray(4, 12)).toString("latin1"), "tsbpf\0\0\0");
  assert.throws(() => c.map(".rodata").set(u32(0), ro), /EPERM/, "frozen .rodata");
  assert.equal(bpftoolMap(c.map(".rodata").id).name, "globals.rodata");
  assert.equal(bpftoolMap(c.map(".data.custom").id).name, ".data.custom");
});

test("globals: bad overrides name the variable", async (t) => {
  if (!needsKernel(t)) return;
  const path = fixture("globals.o");
  await assert.rejects(
    Collection.loadFile(path, { globals: { nope: 1 } }),
    /no global variable named nope .*increment/,
  );
  await assert.rejects(
    Collection.loadFile(path, { globals: { increment: 1n << 40n } }),
    /global increment: 1099511627776 does not fit in 4 bytes/,
  );
  await assert.rejects(
    Collection.loadFile(path, { globals: { greeting: new Uint8Array(3) } }),
    /global greeting is 8 bytes; the value given has 3/,
  );
});

test("xdp_drop_udp_port: drop_port from .rodata, changed through globals", async (t) => {
  if (!needsKernel(t)) return;
  {
    using c = await Collection.loadFile(fixture("xdp_drop_udp_port.o"));
    const p = c.program("xdp_drop_udp");
    assert.equal(p.type, ProgType.XDP);
    assert.equal(p.testRun({ data: udpFrame(9999) }).retval, XDP_DROP);
    assert.equal(p.testRun({ data: udpFrame(53) }).retval, XDP_PASS);
    assert.equal(u64(c.map("drop_stats").get(u32(0))), 1n);
    assert.equal(u64(c.map("drop_stats").get(u32(1))), 1n);
  }
  {
    using c = await Collection.loadFile(fixture("xdp_drop_udp_port.o"), {
      globals: { drop_port: 53 },
    });
    const p = c.program("xdp_drop_udp");
    assert.equal(p.testRun({ data: udpFrame(53) }).retval, XDP_DROP);
    assert.equal(p.testRun({ data: udpFrame(9999) }).retval, XDP_PASS);
    assert.equal(p.testRun({ data: udpFrame(53) }).retval, XDP_DROP);
    assert.equal(u64(c.map("drop_stats").get(u32(0))), 2n);
    assert.equal(u64(c.map("drop_stats").get(u32(1))), 1n);
  }
});

test("subprog: static and global bpf-to-bpf calls behave", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("subprog.o"));
  const results = c.map("results");
  assert.equal(c.program("subprog_a").testRun({ data: new Uint8Array(64) }).retval, XDP_PASS);
  assert.equal(u64(results.get(u32(0))), 64n * 31n + 1n);
  assert.equal(c.program("subprog_a").testRun({ data: new Uint8Array(1000) }).retval, XDP_DROP);
  assert.equal(c.program("subprog_b").testRun({ data: new Uint8Array(64) }).retval, XDP_DROP);
  assert.equal(u64(results.get(u32(1))), 64n * 31n + 2n);
});

test('legacy SEC("maps") objects load (libbpf 1.x refuses them)', async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("legacy_maps.o"));
  const h = bpftoolMap(c.map("legacy_hash").id);
  assert.deepEqual([h.type, h.bytes_key, h.bytes_value, h.max_entries], ["hash", 4, 8, 64]);
  assert.equal(c.map("legacy_array").type, MapType.ARRAY);
  assert.equal(c.map("legacy_array").maxEntries, 4);
  assert.equal(c.program("legacy_xdp").testRun({ data: new Uint8Array(42) }).retval, XDP_PASS);
  assert.equal(u64(c.map("legacy_array").get(u32(0))), 1n);
  assert.equal(u64(c.map("legacy_hash").get(u32(42))), 1n);
});

test("verifier_reject: VerifierError names the program and the C line from line info", async (t) => {
  if (!needsKernel(t)) return;
  const err = await Collection.loadFile(fixture("verifier_reject.o")).then(
    () => assert.fail("loaded"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof VerifierError, String(err));
  assert.equal(err.program, "no_bounds_check");
  assert.equal(err.errno, Errno.EACCES);
  assert.match(err.message, /verifier rejected program no_bounds_check: invalid access to packet/);
  assert.match(err.log, /invalid access to packet/);
  assert.ok(err.source, "source line from .BTF.ext line info");
  assert.equal(err.source.line, 21);
  assert.match(err.source.fileName, /verifier_reject\.bpf\.c$/);
  assert.equal(err.source.text.trim(), "if (eth->h_proto == bpf_htons(ETH_P_IP))");
  assert.match(
    err.message,
    /verifier_reject\.bpf\.c:21:\d+: if \(eth->h_proto == bpf_htons\(ETH_P_IP\)\)/,
  );
});

test("options: programs subset, unknown names, maps given by the caller", async (t) => {
  if (!needsKernel(t)) return;
  const path = fixture("maps_all.o");
  const warnings: string[] = [];
  {
    using c = await Collection.loadFile(path, {
      programs: ["xdp_entry"],
      onWarning: (m) => warnings.push(m),
    });
    assert.deepEqual([...c.programs.keys()], ["xdp_entry"]);
    assert.match(
      warnings.join("\n"),
      /jump_table: slot 0 stays empty, program xdp_tail was not loaded/,
    );
    assert.equal(c.program("xdp_entry").testRun({ data: udpFrame(1) }).retval, XDP_PASS);
    assert.throws(
      () => c.program("xdp_tail"),
      /no program named xdp_tail \(the object has: xdp_entry\)/,
    );
  }
  await assert.rejects(
    Collection.loadFile(path, { programs: ["nope"] }),
    /no program named nope in the object/,
  );
  // Share a map between two loads of subprog.o.
  using first = await Collection.loadFile(fixture("subprog.o"));
  using second = await Collection.loadFile(fixture("subprog.o"), {
    maps: { results: first.map("results") },
  });
  second.program("subprog_a").testRun({ data: new Uint8Array(20) });
  assert.equal(u64(first.map("results").get(u32(0))), 20n * 31n + 1n);
  await assert.rejects(
    Collection.loadFile(fixture("xdp_count.o"), { maps: { proto_count: first.map("results") } }),
    /map proto_count: the map given in options.maps does not match .*max entries 2 vs 256/,
  );
});
