// Maps from compiled probes, checked after BPF_PROG_TEST_RUN: hash (struct key/value),
// array with atomics, per-CPU array, LRU hash, ring buffer; delete; loops and inlining.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { struct, u16, u32, u64 } from "../../../src/types/index.js";
import { frame } from "../../unit/compiler/packets.js";

const FIXTURE = fileURLToPath(new URL("../../../../test/fixtures/probes/maps.ts", import.meta.url));
const XDP_DROP = 1;
const XDP_PASS = 2;

const Port = struct("Port", { port: u16, proto: u16 });
const Stats = struct("Stats", { packets: u64, bytes: u64 });
const Event = struct("Event", { dport: u32, len: u32, sum: u64 });

test("maps: hash/array/per-CPU/LRU/ring buffer updated by a compiled XDP program", async (t) => {
  if (!needsKernel(t)) return;
  const compiled = compileProbe(FIXTURE);
  using coll = Collection.load(compiled.elf);
  const prog = coll.programs.get("count")!;
  using ring = RingBufReader.open(coll.maps.get("events")!, { copy: true } as never);
  const run = (pkt: Uint8Array, want = XDP_PASS) =>
    assert.equal(prog.testRun({ data: pkt }).retval, want);

  const http = frame({ ip: 4, sport: 1000, dport: 80, payload: "GET / HTTP/1.1\r\n" });
  const dns = frame({ ip: 6, proto: "udp", sport: 2000, dport: 53, payload: "xx" });
  const discard = frame({ ip: 4, sport: 3000, dport: 9 });
  run(http);
  run(http);
  run(dns);
  run(discard, XDP_DROP);

  const byPort = coll.maps.get("by_port")!;
  const get = (port: number, proto: number) => {
    const v = byPort.get(Port.encode({ port, proto }) as never) as Uint8Array | undefined;
    return v && Stats.decode(v);
  };
  assert.deepEqual(get(80, 6), { packets: 2n, bytes: BigInt(2 * http.length) });
  assert.deepEqual(get(53, 17), { packets: 1n, bytes: BigInt(dns.length) });
  assert.equal(get(9, 6), undefined, "deleted by the program");

  const totals = coll.maps.get("totals")!;
  const total = Stats.decode(totals.get(u32.encode(2) as never) as Uint8Array);
  assert.deepEqual(total, {
    packets: 4n,
    bytes: BigInt(2 * http.length + dns.length + discard.length),
  });
  assert.deepEqual(Stats.decode(totals.get(u32.encode(0) as never) as Uint8Array), {
    packets: 0n,
    bytes: 0n,
  });

  const perCpu = coll.maps.get("per_cpu")!.perCpu({ key: u32, value: u64 });
  const counts = perCpu.get(0) as unknown as bigint[];
  assert.equal(
    counts.reduce((a, b) => a + b, 0n),
    4n,
  );

  // LRU with two entries: three source ports seen, at most two remain, the last one among them.
  const recent = coll.maps.get("recent")!;
  assert.equal(
    u64.decode(recent.get(u32.encode(3000) as never) as Uint8Array),
    BigInt(discard.length),
  );

  const evs = ring.readBatch().map((b) => Event.decode(b));
  assert.deepEqual(evs, [
    { dport: 80, len: http.length, sum: 0n },
    { dport: 80, len: http.length, sum: 0n },
    { dport: 53, len: dns.length, sum: 3n * (1n + 2n + 3n) },
  ]);
});
