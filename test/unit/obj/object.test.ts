import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BpfFlags, MapType, ProgType } from "../../../src/obj/consts.js";
import { ObjectError } from "../../../src/obj/errors.js";
import {
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  isCall,
  LDDW,
  type Insn,
} from "../../../src/obj/insn.js";
import {
  parseObject,
  type BpfObject,
  type MapSpec,
  type ProgramSpec,
} from "../../../src/obj/object.js";
import { buildC, needsClang, SAMPLE_C } from "../../support/fixtures.js";

const HEAD = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
`;

const BTF_MAPS_C = `${HEAD}
struct val { __u64 packets; __u64 bytes; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024); __type(key, __u32);
         __type(value, struct val); __uint(map_flags, BPF_F_NO_PREALLOC); } flows SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32);
         __type(value, __u64); __uint(pinning, LIBBPF_PIN_BY_NAME); } pinned_counts SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 16); } rb SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, sizeof(int));
         __uint(value_size, sizeof(int)); } perf SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_BLOOM_FILTER); __uint(max_entries, 100);
         __uint(value_size, 8); __uint(map_extra, 3); } bloom SEC(".maps");
struct inner_t { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, __u32);
                 __type(value, __u32); } inner1 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 2); __type(key, __u32);
         __array(values, struct inner_t); } outer SEC(".maps") = { .values = { [1] = &inner1 } };
int tail(struct xdp_md *ctx);
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 4); __type(key, __u32);
         __array(values, int (void *)); } jumps SEC(".maps") = { .values = { [2] = (void *)&tail } };

SEC("xdp") int tail(struct xdp_md *ctx) { return XDP_PASS; }
SEC("xdp") int entry(struct xdp_md *ctx) {
  __u32 k = 0;
  struct val *v = bpf_map_lookup_elem(&flows, &k);
  if (v) v->packets++;
  __u64 *c = bpf_map_lookup_elem(&pinned_counts, &k);
  if (c) *c += 1;
  bpf_ringbuf_output(&rb, &k, sizeof(k), 0);
  bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &k, sizeof(k));
  bpf_map_push_elem(&bloom, &k, 0);
  void *in = bpf_map_lookup_elem(&outer, &k);
  if (in) bpf_map_lookup_elem(in, &k);
  bpf_tail_call(ctx, &jumps, 2);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0xfffffffe;
`;

const LEGACY_C = `${HEAD}
struct bpf_map_def { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct bpf_map_def SEC("maps") counters = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 8 };
struct bpf_map_def SEC("maps") events = { .type = BPF_MAP_TYPE_PERF_EVENT_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 64, .map_flags = 0 };
struct bpf_map_def SEC("maps/requests") requests = { .type = BPF_MAP_TYPE_PERF_EVENT_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1024 };
SEC("xdp/trace_http") int trace_http(struct xdp_md *ctx) {
  __u32 k = 1;
  __u64 *v = bpf_map_lookup_elem(&counters, &k);
  if (v) *v += 1;
  bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &k, sizeof(k));
  bpf_perf_event_output(ctx, &requests, BPF_F_CURRENT_CPU, &k, sizeof(k));
  return XDP_PASS;
}
char _license[] SEC("license") = "GPL";
`;

const GLOBALS_C = `${HEAD}
int counter = 7;
const volatile __u32 cfg_port = 8080;
const volatile char cfg_name[8] = "tsbpf";
__u64 zeroed[3];
static __u32 hidden = 5;
__u32 custom SEC(".data.custom") = 42;
SEC("socket") int sock(void *ctx) {
  counter += cfg_port + cfg_name[1] + hidden;
  zeroed[2] = custom;
  hidden++;
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

const CALLS_C = `${HEAD}
static __noinline int leaf(int x) { return x * 3 + 1; }
static __noinline int mid(int x) { return leaf(x) + leaf(x + 1); }
__noinline int shared(int x) { return x ^ 0x55; }
static long cb(__u32 i, void *ctx) { *(int *)ctx += i; return 0; }
SEC("tc") int first(struct __sk_buff *skb) { return mid(skb->len) + shared(1); }
SEC("tc") int second(struct __sk_buff *skb) {
  int acc = 0;
  bpf_loop(4, cb, &acc, 0);
  return shared(skb->len) + acc;
}
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32);
         __type(value, __u64); } cnt SEC(".maps");
int glob = 3;
static __noinline int bump(void) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&cnt, &k);
  if (v) (*v)++;
  return glob;
}
SEC("tracepoint/syscalls/sys_enter_openat") int third(void *ctx) { return leaf(2) + bump(); }
char LICENSE[] SEC("license") = "GPL";
`;

const isObjectError = (e: unknown): boolean => e instanceof ObjectError;

function map(obj: BpfObject, name: string): MapSpec {
  const m = obj.maps.find((x) => x.name === name);
  assert.ok(m, `map ${name} (have ${obj.maps.map((x) => x.name).join(", ")})`);
  return m;
}
function prog(obj: BpfObject, name: string): ProgramSpec {
  const p = obj.programs.find((x) => x.name === name);
  assert.ok(p, `program ${name} (have ${obj.programs.map((x) => x.name).join(", ")})`);
  return p;
}

/** The linked instruction index each pseudo call / function pointer lands on. */
function callTargets(p: ProgramSpec): number[] {
  const out: number[] = [];
  p.insns.forEach((i: Insn, pos) => {
    if ((isCall(i) && i.src === BPF_PSEUDO_CALL) || (i.code === LDDW && i.src === BPF_PSEUDO_FUNC))
      out.push(pos + i.imm + 1);
  });
  return out;
}

test("BTF-defined maps: sizes from key/value types, flags, pinning, extra, map-in-map, prog array", (t) => {
  if (!needsClang(t)) return;
  const obj = parseObject(buildC(BTF_MAPS_C, "obj-btf-maps"));
  assert.equal(obj.license, "GPL");
  assert.equal(obj.kernelVersion, 0xfffffffe);

  const flows = map(obj, "flows");
  assert.deepEqual(
    [flows.type, flows.keySize, flows.valueSize, flows.maxEntries, flows.flags, flows.pinning],
    [MapType.HASH, 4, 16, 1024, BpfFlags.NO_PREALLOC, "none"],
  );
  assert.equal(obj.btf!.describe(flows.btfValueTypeId!), "struct val");
  assert.equal(obj.btf!.sizeOf(flows.btfKeyTypeId!), 4);
  assert.equal(map(obj, "pinned_counts").pinning, "by-name");
  const rb = map(obj, "rb");
  assert.deepEqual(
    [rb.type, rb.keySize, rb.valueSize, rb.maxEntries],
    [MapType.RINGBUF, 0, 0, 65536],
  );
  const perf = map(obj, "perf");
  assert.deepEqual(
    [perf.type, perf.keySize, perf.valueSize, perf.maxEntries],
    [MapType.PERF_EVENT_ARRAY, 4, 4, 0],
  );
  const bloom = map(obj, "bloom");
  assert.equal(bloom.mapExtra, 3n);
  assert.equal(bloom.valueSize, 8);

  const outer = map(obj, "outer");
  assert.equal(outer.type, MapType.ARRAY_OF_MAPS);
  assert.deepEqual([outer.keySize, outer.valueSize, outer.btfValueTypeId], [4, 4, undefined]);
  assert.ok(outer.innerMap);
  assert.deepEqual(
    [
      outer.innerMap.type,
      outer.innerMap.keySize,
      outer.innerMap.valueSize,
      outer.innerMap.maxEntries,
    ],
    [MapType.ARRAY, 4, 4, 2],
  );
  assert.deepEqual(outer.initSlots, [{ index: 1, map: "inner1" }]);
  const jumps = map(obj, "jumps");
  assert.deepEqual([jumps.type, jumps.keySize, jumps.valueSize], [MapType.PROG_ARRAY, 4, 4]);
  assert.deepEqual(jumps.initSlots, [{ index: 2, program: "tail" }]);

  // Two programs in one section, each split out by its symbol.
  assert.deepEqual(
    obj.programs.map((p) => [p.name, p.section]),
    [
      ["tail", "xdp"],
      ["entry", "xdp"],
    ],
  );
  const entry = prog(obj, "entry");
  assert.equal(entry.sectionInfo?.progType, ProgType.XDP);
  assert.deepEqual(
    entry.relocations.map((r) => r.kind === "map" && r.map),
    ["flows", "pinned_counts", "rb", "perf", "bloom", "outer", "jumps"],
  );
  for (const r of entry.relocations) assert.equal(entry.insns[r.insn]!.code, LDDW);
  assert.deepEqual(prog(obj, "tail").insns.length, 2);
  assert.deepEqual(
    entry.funcInfo.map((f) => f.insn),
    [0],
  );
  assert.equal(obj.btf!.typeById(entry.funcInfo[0]!.typeId).name, "entry");

  // The BTF handed to the loader has the DATASEC placed like libbpf would.
  const ds = obj.btf!.findByName("datasec", ".maps")!.type;
  assert.ok(ds.size > 0);
  assert.deepEqual(
    ds.vars.map((v) => v.offset),
    [...ds.vars.map((v) => v.offset)].sort((a, b) => a - b),
  );
});

test("legacy struct bpf_map_def maps and RedBPF maps/<name> + xdp/<name> sections", (t) => {
  if (!needsClang(t)) return;
  const obj = parseObject(buildC(LEGACY_C, "obj-legacy-maps"));
  const c = map(obj, "counters");
  assert.deepEqual(
    [c.type, c.keySize, c.valueSize, c.maxEntries, c.section],
    [MapType.ARRAY, 4, 8, 8, "maps"],
  );
  const e = map(obj, "events");
  assert.deepEqual([e.type, e.maxEntries], [MapType.PERF_EVENT_ARRAY, 64]);
  const r = map(obj, "requests");
  assert.deepEqual(
    [r.type, r.maxEntries, r.section],
    [MapType.PERF_EVENT_ARRAY, 1024, "maps/requests"],
  );
  const p = prog(obj, "trace_http");
  assert.equal(p.sectionInfo?.displayKind, "XDP");
  assert.equal(p.sectionInfo?.convention, "redbpf");
  assert.deepEqual(
    p.relocations.map((x) => x.map),
    ["counters", "events", "requests"],
  );
});

test("global data: .data/.rodata/.bss/.data.custom become one-entry arrays with their variables", (t) => {
  if (!needsClang(t)) return;
  const obj = parseObject(buildC(GLOBALS_C, "obj-globals"));
  const data = map(obj, ".data");
  assert.deepEqual(
    [data.type, data.keySize, data.maxEntries, data.global?.kind],
    [MapType.ARRAY, 4, 1, "data"],
  );
  const vars = Object.fromEntries(data.global!.variables.map((v) => [v.name, v]));
  assert.equal(vars.counter!.size, 4);
  assert.equal(new DataView(data.initialData!.buffer).getInt32(vars.counter!.offset, true), 7);
  assert.ok(vars.hidden, "static variables are listed too");

  const ro = map(obj, ".rodata");
  assert.equal(ro.global?.readonly, true);
  assert.equal(ro.flags & BpfFlags.RDONLY_PROG, BpfFlags.RDONLY_PROG);
  const port = ro.global!.variables.find((v) => v.name === "cfg_port")!;
  assert.equal(new DataView(ro.initialData!.buffer).getUint32(port.offset, true), 8080);
  const name = ro.global!.variables.find((v) => v.name === "cfg_name")!;
  assert.equal(
    new TextDecoder().decode(ro.initialData!.subarray(name.offset, name.offset + 5)),
    "tsbpf",
  );
  assert.equal(ro.btfValueTypeId, obj.btf!.findByName("datasec", ".rodata")!.id);

  const bss = map(obj, ".bss");
  assert.equal(bss.initialData, undefined);
  assert.equal(bss.valueSize, 24);
  assert.deepEqual(bss.global!.variables, [{ name: "zeroed", offset: 0, size: 24 }]);
  assert.equal(map(obj, ".data.custom").valueSize, 4);

  const p = prog(obj, "sock");
  assert.equal(p.sectionInfo?.progType, ProgType.SOCKET_FILTER);
  const byMap = new Map<string, number[]>();
  for (const r of p.relocations) {
    assert.equal(r.kind, "mapValue");
    if (r.kind === "mapValue") byMap.set(r.map, [...(byMap.get(r.map) ?? []), r.offset]);
  }
  assert.deepEqual([...byMap.keys()].sort(), [".bss", ".data", ".data.custom", ".rodata"]);
  assert.deepEqual(byMap.get(".bss"), [0], "&zeroed is offset 0 of .bss (the +16 is in the store)");
  assert.ok(byMap.get(".rodata")!.includes(port.offset));
  // .BTF DATASEC sizes are filled from the sections
  assert.equal(obj.btf!.findByName("datasec", ".bss")!.type.size, 24);
});

test("bpf-to-bpf calls: subprograms appended once per program, transitively, calls fixed", (t) => {
  if (!needsClang(t)) return;
  const src = CALLS_C;
  const obj = parseObject(buildC(src, "obj-calls"));
  const lines = src.split("\n");
  assert.deepEqual(
    obj.programs.map((p) => p.name),
    ["first", "second", "third"],
  );
  for (const p of obj.programs) {
    // Every call lands on the first instruction of a function with func_info.
    const starts = new Set(p.funcInfo.map((f) => f.insn));
    for (const target of callTargets(p))
      assert.ok(starts.has(target), `${p.name}: call to ${target}`);
    // func_info is sorted, starts at 0, names distinct functions
    assert.equal(p.funcInfo[0]!.insn, 0);
    const names = p.funcInfo.map((f) => obj.btf!.typeById(f.typeId).name);
    assert.equal(new Set(names).size, names.length, `${p.name}: each function once`);
    for (let k = 1; k < p.funcInfo.length; k++)
      assert.ok(p.funcInfo[k]!.insn > p.funcInfo[k - 1]!.insn);
    for (const l of p.lineInfo) {
      assert.ok(l.insn < p.insns.length);
      assert.equal(l.text, lines[l.line - 1]);
    }
    assert.equal(p.insns[p.insns.length - 1]!.code, 0x95, `${p.name} ends with exit`);
  }
  const fnNames = (p: ProgramSpec) => p.funcInfo.map((f) => obj.btf!.typeById(f.typeId).name);
  assert.deepEqual(fnNames(prog(obj, "first")).sort(), ["first", "leaf", "mid", "shared"]);
  assert.deepEqual(fnNames(prog(obj, "second")).sort(), ["cb", "second", "shared"]);
  const third = prog(obj, "third");
  assert.deepEqual(fnNames(third).sort(), ["bump", "leaf", "third"]);
  // map and global references inside an appended subprogram move with it
  const bumpAt = third.funcInfo.find((f) => obj.btf!.typeById(f.typeId).name === "bump")!.insn;
  assert.deepEqual(
    third.relocations.map((r) => [r.kind, r.map]),
    [
      ["map", "cnt"],
      ["mapValue", ".data"],
    ],
  );
  for (const r of third.relocations) {
    assert.ok(r.insn >= bumpAt, `relocation at ${r.insn} lies in bump (from ${bumpAt})`);
    assert.equal(third.insns[r.insn]!.code, LDDW);
  }
  assert.deepEqual(prog(obj, "first").relocations, []);
  // bpf_loop's callback is referenced through a BPF_PSEUDO_FUNC lddw
  assert.ok(prog(obj, "second").insns.some((i) => i.code === LDDW && i.src === BPF_PSEUDO_FUNC));
});

test("the sample programs parse with their maps wired to instructions", (t) => {
  if (!needsClang(t)) return;
  const xdp = parseObject(buildC(SAMPLE_C.xdpCounter, "xdpCounter"));
  assert.deepEqual(
    prog(xdp, "count_packets").relocations.map((r) => [r.kind, r.map]),
    [
      ["map", "counts"],
      ["mapValue", ".data"],
    ],
  );
  const sub = parseObject(buildC(SAMPLE_C.subprog, "subprog"));
  const p = prog(sub, "classify_xdp");
  assert.equal(sub.license, "Dual BSD/GPL");
  assert.deepEqual(callTargets(p), [20]);
  assert.equal(p.insns.length, 30);
});

test("structural problems are ObjectErrors naming the section", (t) => {
  if (!needsClang(t)) return;
  assert.throws(
    () =>
      parseObject(
        buildC(`${HEAD} int x SEC("version") = 1; char v2 SEC("version") = 2;`, "obj-bad-version"),
      ),
    (e: unknown) =>
      isObjectError(e) && /version section must hold one u32/.test((e as Error).message),
  );
  assert.throws(
    () =>
      parseObject(
        buildC(
          `${HEAD} struct { __uint(max_entries, 1); } notype SEC(".maps");
           SEC("xdp") int p(void *c) { return bpf_map_lookup_elem(&notype, &c) != 0; }`,
          "obj-map-no-type",
        ),
      ),
    /map 'notype' has no type/,
  );
  // A __kconfig extern is a slot of the .kconfig map (libbpf's layout); any other extern
  // (here one in no BTF DATASEC) is named in the error.
  const kc = parseObject(
    buildC(
      `${HEAD} extern int ext_var __attribute__((weak)) __attribute__((section(".kconfig")));
       extern _Bool CONFIG_B __attribute__((section(".kconfig")));
       SEC("xdp") int p(void *c) { return ext_var + CONFIG_B; }`,
      "obj-extern",
    ),
  );
  assert.deepEqual(kc.kconfig, {
    externs: [
      { name: "ext_var", kind: "int", size: 4, signed: true, weak: true, offset: 0 },
      { name: "CONFIG_B", kind: "bool", size: 1, signed: false, weak: false, offset: 4 },
    ],
    size: 5,
  });
  assert.deepEqual(
    kc.programs[0]!.relocations.map((r) =>
      r.kind === "mapValue" ? `${r.map}+${r.offset}` : r.kind,
    ).sort(),
    [".kconfig+0", ".kconfig+4"],
  );
  assert.throws(
    () =>
      parseObject(
        buildC(
          `${HEAD} extern int ext_var __attribute__((weak));
           SEC("xdp") int p(void *c) { return ext_var; }`,
          "obj-extern-plain",
        ),
      ),
    /extern 'ext_var', which is not a __kconfig or __ksym extern/,
  );
  assert.throws(() => parseObject(new Uint8Array(10)), isObjectError);
});

test("property: random bytes and mutated real objects only ever throw ObjectError", (t) => {
  if (!needsClang(t)) return;
  const seeds = [
    buildC(SAMPLE_C.subprog, "subprog"),
    buildC(GLOBALS_C, "obj-globals"),
    buildC(LEGACY_C, "obj-legacy-maps"),
  ];
  const check = (b: Uint8Array): void => {
    try {
      parseObject(b);
    } catch (e) {
      if (!(e instanceof ObjectError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), check), { numRuns: 300 });
  fc.assert(
    fc.property(
      fc.nat(seeds.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      (which, edits) => {
        const b = seeds[which]!.slice();
        for (const [at, v] of edits) b[at % b.length] = v;
        check(b);
      },
    ),
    { numRuns: 1500 },
  );
});

test("__hidden global functions get static BTF linkage, as libbpf gives them", (t) => {
  if (!needsClang(t)) return;
  const obj = parseObject(
    buildC(
      `${HEAD}
       __attribute__((visibility("hidden"))) __attribute__((noinline)) int hid(int *p) { *p = 1; return 0; }
       __attribute__((noinline)) int pub(int *p) { return p ? *p : 0; }
       SEC("xdp") int p(void *c) { int x = 0; return hid(&x) + pub(&x); }`,
      "obj-hidden-func",
    ),
  );
  const linkage = (n: string) => {
    const f = obj.btf!.types.find((t) => t.kind === "func" && t.name === n);
    return f?.kind === "func" ? f.linkage : undefined;
  };
  assert.equal(linkage("hid"), 0, "static");
  assert.equal(linkage("pub"), 1, "global stays global");
});

test("an object that needs linking is unsupported, not malformed, and says what to do", (t) => {
  if (!needsClang(t)) return;
  // A function declared here and defined in another object (what `bpftool gen object` links).
  const ext = buildC(
    `${HEAD} int helper(int x); SEC("xdp") int p(struct xdp_md *ctx) { return helper(2); }`,
    "obj-extern-call",
  );
  assert.throws(
    () => parseObject(ext),
    (e: unknown) =>
      e instanceof ObjectError &&
      e.message.startsWith("unsupported eBPF object: call to extern function 'helper'") &&
      /bpftool gen object/.test(e.message),
  );
  // A call into another program's section: libbpf refuses static programs as callees too.
  const cross = buildC(
    `${HEAD} SEC("tc") __attribute__((noinline)) int other(int x) { return x + 1; }
     SEC("xdp") int p(struct xdp_md *ctx) { return other(ctx->ingress_ifindex) ? XDP_PASS : XDP_DROP; }`,
    "obj-cross-section-call",
  );
  assert.throws(
    () => parseObject(cross),
    /unsupported eBPF object: call into another program section \(tc\).*move the callee into \.text/,
  );
});
