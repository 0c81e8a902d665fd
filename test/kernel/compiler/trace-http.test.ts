// The HTTP tracer example, compiled by tsbpf, loaded by our loader and run by the kernel
// (BPF_PROG_TEST_RUN) on crafted frames: XDP verdicts and the perf events it sends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { PerfReader } from "../../../src/reader/perf.js";
import { MapData } from "../../../src/map/map-data.js";
import type { Type } from "../../../src/types/index.js";
import { frame } from "../../unit/compiler/packets.js";

const PROBE = fileURLToPath(new URL("../../../../examples/trace_http/probe.ts", import.meta.url));
const XDP_PASS = 2;

test("trace_http: loads, passes every frame, reports HTTP requests with the frame", async (t) => {
  if (!needsKernel(t)) return;
  const compiled = compileProbe(PROBE);
  const requestInfo = compiled.maps.find((m) => m.name === "requests")!.value as Type;
  using coll = Collection.load(compiled.elf);
  const prog = coll.programs.get("trace_http")!;
  using reader = PerfReader.open(coll.maps.get("requests")!, { copy: true });

  const run = (pkt: Uint8Array) => {
    const r = prog.testRun({ data: pkt });
    assert.equal(r.retval, XDP_PASS);
    return reader.readBatch().flatMap((b) => b.events);
  };

  // IPv4 GET with options in both headers (variable header lengths).
  const get = frame({
    ip: 4,
    sport: 43210,
    dport: 8080,
    payload: "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    ipOptionWords: 1,
    tcpOptionWords: 3,
  });
  let events = run(get);
  assert.equal(events.length, 1);
  const rec = MapData.decode(requestInfo as never, events[0]!) as unknown as {
    data: { saddr: number; daddr: number; sport: number; dport: number };
    offset: number;
    size: number;
    payload: Uint8Array;
  };
  assert.deepEqual(rec.data, { saddr: 0x0a000001, daddr: 0x0a000002, sport: 43210, dport: 8080 });
  assert.equal(rec.size, get.length);
  assert.equal(rec.offset, 14 + 24 + 32);
  assert.equal(
    Buffer.from(rec.payload).toString("latin1"),
    "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
  );

  // Every method, IPv4 and IPv6; IPv6 reports zero addresses (they are in the frame).
  for (const method of ["GET ", "HEAD", "PUT ", "POST", "DELETE"]) {
    for (const ip of [4, 6] as const) {
      events = run(frame({ ip, payload: `${method} /x HTTP/1.0\r\n` }));
      assert.equal(events.length, 1, `${method} over IPv${ip}`);
      const r = MapData.decode(requestInfo as never, events[0]!) as unknown as {
        data: { saddr: number; sport: number };
        offset: number;
        payload: Uint8Array;
      };
      assert.equal(r.data.saddr, ip === 4 ? 0x0a000001 : 0);
      assert.equal(r.offset, 14 + (ip === 4 ? 20 : 40) + 20);
      assert.ok(Buffer.from(r.payload).toString("latin1").startsWith(method));
    }
  }

  // Not reported: other payloads, short payloads, UDP, truncated frames, non-IP.
  assert.equal(run(frame({ ip: 4, payload: "SSH-2.0-OpenSSH" })).length, 0);
  assert.equal(run(frame({ ip: 6, payload: "DELETX /" })).length, 0);
  assert.equal(run(frame({ ip: 4, payload: "GET " })).length, 0, "fewer than 6 payload bytes");
  assert.equal(run(frame({ ip: 4, proto: "udp", payload: "GET / HTTP/1.1\r\n" })).length, 0);
  const cut = frame({ ip: 4, payload: "GET / HTTP/1.1\r\n" }).subarray(0, 14 + 20 + 10);
  assert.equal(run(cut).length, 0);
  const arp = frame({ ip: 4, payload: "GET / HTTP/1.1\r\n" });
  arp[12] = 0x08;
  arp[13] = 0x06;
  assert.equal(run(arp).length, 0);
});

const PROBE_RINGBUF = fileURLToPath(
  new URL("../../../../examples/trace_http/probe_ringbuf.ts", import.meta.url),
);

test("trace_http over a ring buffer: MapData records with up to 512 captured frame bytes", async (t) => {
  if (!needsKernel(t)) return;
  const compiled = compileProbe(PROBE_RINGBUF);
  const requestInfo = compiled.maps.find((m) => m.name === "requests")!.value as Type;
  using coll = Collection.load(compiled.elf);
  const prog = coll.programs.get("trace_http")!;
  const { RingBufReader } = await import("../../../src/reader/ringbuf.js");
  using reader = RingBufReader.open(coll.maps.get("requests")!);
  const decode = (raw: Uint8Array) =>
    MapData.decode(requestInfo as never, raw) as unknown as {
      data: { saddr: number; dport: number };
      offset: number;
      size: number;
      payload: Uint8Array;
    };

  const small = frame({ ip: 4, dport: 8080, payload: "POST /x HTTP/1.1\r\n\r\n" });
  assert.equal(prog.testRun({ data: small }).retval, XDP_PASS);
  const big = frame({ ip: 6, payload: "GET /" + "a".repeat(700) + " HTTP/1.1\r\n" });
  assert.equal(prog.testRun({ data: big }).retval, XDP_PASS);
  assert.equal(prog.testRun({ data: frame({ ip: 4, payload: "NOTHTTP" }) }).retval, XDP_PASS);

  const recs = reader.readBatch().map(decode);
  assert.equal(recs.length, 2);
  assert.deepEqual(
    [recs[0]!.data.saddr, recs[0]!.data.dport, recs[0]!.size, recs[0]!.offset],
    [0x0a000001, 8080, small.length, 54],
  );
  assert.equal(Buffer.from(recs[0]!.payload).toString("latin1"), "POST /x HTTP/1.1\r\n\r\n");
  assert.equal(recs[1]!.size, 512, "capture limited to 512 bytes");
  assert.equal(recs[1]!.offset, 74);
  assert.equal(
    Buffer.from(recs[1]!.payload).toString("latin1"),
    "GET /" + "a".repeat(512 - 74 - 5),
  );
});
