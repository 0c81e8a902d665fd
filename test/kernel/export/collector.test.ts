// The exporter's map reading against the real kernel: a clang-built object whose BTF describes
// the keys (a comm string, a C enum, IPv6 and IPv4 addresses, a per-CPU array, a linear
// histogram), filled from user space, exported through a config resolved against that BTF; and
// the TypeScript API on maps typed by tsbpf/types structs. Checks label decoding, per-CPU sums,
// keys folded into one label set, histogram buckets, and the Prometheus/OpenMetrics text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Collection } from "../../../src/load/collection.js";
import { BpfMap } from "../../../src/map/map.js";
import { MapType } from "../../../src/obj/consts.js";
import { checkConfig } from "../../../src/export/config.js";
import { MapCollector, type HistogramSeries, type Series } from "../../../src/export/collector.js";
import { Exposition } from "../../../src/export/prometheus.js";
import { counter, gauge, defineExporter } from "../../../src/export/spec.js";

import { struct, be32, u32, u64, u8, array } from "../../../src/types/index.js";
import { needsKernel } from "../../support/kernel.js";
import { buildCPath, needsClang } from "../../support/fixtures.js";

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
enum proto_kind { PROTO_ICMP = 1, PROTO_TCP = 6, PROTO_UDP = 17 };
struct task_key {
  char comm[16];
  __u32 pid;
  enum proto_kind proto;
  __u8 addr6[16];
  __be32 addr4;
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, struct task_key);
  __type(value, __u64);
} by_task SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} per_cpu SEC(".maps");
struct lat_key { __u32 op; __u32 slot; };
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, struct lat_key);
  __type(value, __u64);
} latency SEC(".maps");
SEC("xdp") int noop(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";
`;

function taskKey(
  comm: string,
  pid: number,
  proto: number,
  addr6: number[],
  addr4: number[],
): Uint8Array {
  const b = new Uint8Array(44);
  b.set(new TextEncoder().encode(comm).subarray(0, 15), 0);
  const v = new DataView(b.buffer);
  v.setUint32(16, pid, true);
  v.setUint32(20, proto, true);
  b.set(addr6, 24);
  b.set(addr4, 40);
  return b;
}
const u64le = (n: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
};
const u32le = (...ns: number[]) => {
  const b = new Uint8Array(4 * ns.length);
  ns.forEach((n, i) => new DataView(b.buffer).setUint32(4 * i, n, true));
  return b;
};
const FD00_1 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

const CONFIG = {
  metrics: [
    {
      name: "task_packets",
      type: "counter",
      help: "packets by task",
      map: "by_task",
      labels: [
        { name: "comm", field: "comm", decode: "string" },
        { name: "proto", field: "proto" },
        { name: "addr6", field: "addr6", decode: "ipv6" },
        { name: "addr4", field: "addr4", decode: "ip" },
      ],
    },
    {
      name: "task_packets_by_pid",
      type: "gauge",
      help: "the same, by pid",
      map: "by_task",
      labels: [{ name: "pid", field: "pid" }],
    },
    {
      name: "cpu_slots",
      type: "gauge",
      help: "per-CPU sums",
      map: "per_cpu",
      labels: [{ name: "slot" }],
    },
    {
      name: "op_latency_seconds",
      type: "histogram",
      unit: "seconds",
      help: "latency by op",
      map: "latency",
      bucket: "slot",
      buckets: { type: "linear", width: 10, max: 3, multiplier: 0.001 },
      sum: "none",
      labels: [{ name: "op", field: "op", decode: { enum: { "0": "read", "1": "write" } } }],
    },
  ],
};

test("config metrics resolved against the object's BTF: strings, C enums, addresses, per-CPU sums, linear histograms", async (t) => {
  if (!needsKernel(t) || !needsClang(t)) return;
  using coll = Collection.load(
    new Uint8Array(
      await import("node:fs").then((fs) => fs.readFileSync(buildCPath(SOURCE, "export_keys"))),
    ),
  );
  const byTask = coll.map("by_task");
  byTask.set(taskKey("curl", 42, 6, FD00_1, [10, 1, 2, 3]), u64le(5n));
  byTask.set(taskKey("curl", 43, 6, FD00_1, [10, 1, 2, 3]), u64le(7n)); // same labels but pid: folded
  byTask.set(taskKey("nginx: worker", 42, 17, new Array(16).fill(0), [192, 168, 0, 1]), u64le(2n));
  byTask.set(taskKey("x", 9, 99, FD00_1, [0, 0, 0, 0]), u64le(1n)); // 99: not a named enum value
  const perCpu = coll.map("per_cpu").perCpu();
  const cpus = perCpu.cpus;
  perCpu.set(
    u32le(1),
    Array.from({ length: cpus }, (_, i) => u64le(BigInt(i + 1))),
  );
  const lat = coll.map("latency");
  lat.set(u32le(0, 0), u64le(3n)); // read: [0, 10) → le 0.009
  lat.set(u32le(0, 2), u64le(4n)); // read: [20, 30) → le 0.029
  lat.set(u32le(1, 7), u64le(2n)); // write: above max → +Inf only
  lat.set(u32le(1, 3), u64le(1n)); // write: [30, 40) → le 0.039

  const collector = MapCollector.bind(checkConfig(CONFIG), {
    maps: coll.maps,
    object: coll.object,
  });
  const got = new Map(collector.collect().map((c) => [c.spec.name, c.series]));
  const packets = got.get("task_packets") as Series[];
  const find = (labels: Record<string, string>) =>
    packets.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.equal(packets.length, 3);
  assert.deepEqual(find({ comm: "curl" }), {
    labels: { comm: "curl", proto: "PROTO_TCP", addr6: "fd00::1", addr4: "10.1.2.3" },
    value: 12,
  });
  assert.deepEqual(find({ comm: "nginx: worker" })?.labels, {
    comm: "nginx: worker",
    proto: "PROTO_UDP",
    addr6: "::",
    addr4: "192.168.0.1",
  });
  assert.equal(find({ comm: "x" })?.labels.proto, "99");
  const byPid = got.get("task_packets_by_pid") as Series[];
  assert.deepEqual(byPid.map((s) => [s.labels.pid, s.value]).sort(), [
    ["42", 7],
    ["43", 7],
    ["9", 1],
  ]);
  const slots = got.get("cpu_slots") as Series[];
  assert.deepEqual(slots.find((s) => s.labels.slot === "1")?.value, (cpus * (cpus + 1)) / 2);
  assert.deepEqual(slots.find((s) => s.labels.slot === "0")?.value, 0);
  const hist = got.get("op_latency_seconds") as HistogramSeries[];
  const read = hist.find((h) => h.labels.op === "read")!;
  assert.deepEqual(
    read.bounds.map((b) => +b.toFixed(6)),
    [0.009, 0.019, 0.029, 0.039],
  );
  assert.deepEqual(read.counts, [3, 0, 4, 0, 0]);
  assert.equal(read.count, 7);
  assert.equal(read.sum, undefined);
  const write = hist.find((h) => h.labels.op === "write")!;
  assert.deepEqual(write.counts, [0, 0, 0, 1, 2]);

  const expo = await Exposition.create(collector.specs, () => collector.collect());
  const prom = (await expo.render(false)).body;
  assert.match(prom, /^# TYPE task_packets_total counter$/m);
  assert.match(
    prom,
    /^task_packets_total\{comm="curl",proto="PROTO_TCP",addr6="fd00::1",addr4="10\.1\.2\.3"\} 12$/m,
  );
  assert.match(prom, /^op_latency_seconds_bucket\{op="read",le="0\.029"\} 7$/m);
  assert.match(prom, /^op_latency_seconds_bucket\{op="write",le="\+Inf"\} 3$/m);
  assert.doesNotMatch(prom, /op_latency_seconds_sum/);
  const open = await expo.render(true);
  assert.match(open.contentType, /^application\/openmetrics-text; version=1\.0\.0/);
  assert.match(open.body, /^# TYPE task_packets counter$/m);
  assert.match(open.body, /^# UNIT op_latency_seconds seconds$/m);
  assert.match(open.body, /\n# EOF\n$/);
});

test("a config that does not fit the object's maps is refused, naming the field", async (t) => {
  if (!needsKernel(t) || !needsClang(t)) return;
  using coll = Collection.load(
    new Uint8Array(
      await import("node:fs").then((fs) => fs.readFileSync(buildCPath(SOURCE, "export_keys"))),
    ),
  );
  const bind = (m: object) =>
    MapCollector.bind(checkConfig({ metrics: [m] }), { maps: coll.maps, object: coll.object });
  const base = { name: "m", type: "counter", help: "h", map: "by_task" };
  assert.throws(
    () => bind({ ...base, labels: [{ name: "c", field: "cmd" }] }),
    /struct task_key has no field "cmd" \(its fields: comm, pid, proto, addr6, addr4\)/,
  );
  assert.throws(
    () => bind({ ...base, labels: [{ name: "c", field: "comm", decode: "ipv4" }] }),
    /field "comm" is 16 bytes; an IPv4 address is 4/,
  );
  assert.throws(
    () => bind({ ...base, labels: [{ name: "c", field: "pid", decode: "enum" }] }),
    /field "pid" is not a C enum/,
  );
  assert.throws(
    () => bind({ ...base, map: "nope" }),
    /the object has no map "nope" \(its maps: by_task, per_cpu, latency/,
  );
  assert.throws(() => bind({ ...base, name: "m_total" }), /leave "_total" out/);
  assert.throws(() => bind({ ...base, unit: "bytes" }), /named m_bytes/);
});

test("TypeScript metrics typed by the probe's structs: be32 and u32 addresses, struct values", (t) => {
  if (!needsKernel(t)) return;
  const Key = struct("Key", { saddr: be32, host: u32, proto: u8, pad: array(u8, 3) });
  const Val = struct("Val", { packets: u64, bytes: u64 });
  using m = BpfMap.create(
    { type: MapType.HASH, keySize: Key.size, valueSize: Val.size, maxEntries: 8, name: "flows" },
    { key: Key, value: Val },
  );
  m.set(
    { saddr: 0x0a000001, host: 0x0a000002, proto: 17, pad: new Uint8Array(3) },
    { packets: 3n, bytes: 300n },
  );
  const def = defineExporter({
    metrics: [
      counter({
        name: "flows_packets",
        help: "h",
        map: "flows",
        key: Key,
        value: Val,
        field: "packets",
        labels: {
          src: { field: "saddr", decode: "ipv4" },
          host: { field: "host", decode: "ipv4" },
          proto: "proto",
        },
      }),
      gauge({
        name: "flows_bytes",
        unit: "bytes",
        help: "h",
        map: "flows",
        key: Key,
        value: Val,
        field: "bytes",
      }),
    ],
  });
  const collector = MapCollector.bind(def, { maps: new Map([["flows", m.withCodecs({})]]) });
  const [packets, bytes] = collector.collect();
  assert.deepEqual(packets!.series, [
    { labels: { src: "10.0.0.1", host: "10.0.0.2", proto: "17" }, value: 3 },
  ]);
  assert.deepEqual(bytes!.series, [{ labels: {}, value: 300 }]);
  // A layout that does not match the map is refused before anything is read.
  const Small = struct("Small", { saddr: be32 });
  assert.throws(
    () =>
      MapCollector.bind(
        defineExporter({
          metrics: [
            counter({
              name: "x",
              help: "h",
              map: "flows",
              key: Small,
              value: Val,
              field: "packets",
            }),
          ],
        }),
        { maps: new Map([["flows", m.withCodecs({})]]) },
      ),
    /key type struct Small is 4 bytes but map "flows" has 12-byte keys/,
  );
});
