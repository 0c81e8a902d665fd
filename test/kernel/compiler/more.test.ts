// Ring buffer reserve/submit/discard, LPM trie, IPv6 addresses into byte arrays, tail calls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { struct, array, be32, u8, u32, u64 } from "../../../src/types/index.js";
import { frame } from "../../unit/compiler/packets.js";

const FIXTURE = fileURLToPath(new URL("../../../../test/fixtures/probes/more.ts", import.meta.url));
const Seen = struct("Seen", { version: u32, route: u32, saddr6: array(u8, 16), hi: u64 });
const V4Prefix = struct("V4Prefix", { prefixlen: u32, addr: be32 });

test("reserve/submit/discard, LPM lookups, IPv6 addresses, tail calls", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileProbe(FIXTURE).elf);
  const prog = coll.programs.get("classify")!;
  using ring = RingBufReader.open(coll.maps.get("seen")!);
  coll.maps
    .get("routes")!
    .set(V4Prefix.encode({ prefixlen: 8, addr: 0x0a000000 }) as never, u32.encode(7) as never);
  const run = (p: Uint8Array) => prog.testRun({ data: p }).retval;

  assert.equal(run(frame({ ip: 4, src: [10, 1, 2, 3] })), 2);
  assert.equal(run(frame({ ip: 4, src: [192, 168, 0, 1] })), 2);
  const src6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
  assert.equal(run(frame({ ip: 6, src: src6 })), 2);
  const ttl1 = frame({ ip: 4 });
  ttl1[14 + 8] = 1;
  assert.equal(run(ttl1), 1, "discarded and dropped");

  const evs = ring.readBatch().map((b) => Seen.decode(b));
  assert.equal(evs.length, 3);
  assert.deepEqual(
    evs.map((e) => [e.version, e.route]),
    [
      [4, 7],
      [4, 0],
      [6, 0],
    ],
  );
  assert.deepEqual([...evs[2]!.saddr6], src6);
  assert.equal(evs[2]!.hi, 0x20010db800000000n);

  // Tail call: without a program in slot 0 the call falls through; with `tail` it jumps.
  const arp = frame({ ip: 4 });
  arp[12] = 0x08;
  arp[13] = 0x06;
  assert.equal(run(arp), 0, "XDP_ABORTED after an empty slot");
  coll.maps
    .get("jumps")!
    .set(u32.encode(0) as never, u32.encode(coll.programs.get("tail")!.fd) as never);
  assert.equal(run(arp), 3, "XDP_TX from the tail program");
  assert.equal(u32.decode(coll.maps.get("marks")!.get(u32.encode(1) as never) as Uint8Array), 42);
});
