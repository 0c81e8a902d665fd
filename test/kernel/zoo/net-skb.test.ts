// The TC and socket-filter ports of the network zoo on crafted frames (BPF_PROG_TEST_RUN
// builds an skb from them): preserve-dscp's read/write pair, tc-policy's queue remap,
// libbpf-bootstrap's tc and sockfilter examples, against expectations written here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { checksumOk } from "../../support/frames.js";
import {
  forPacketSocket,
  netFrame,
  rawFrame,
  u32le,
} from "../../../bench/compiler/zoo/net/frames.js";
import { RingBufReader } from "../../../src/reader/ringbuf.js";
import { loadPort } from "./support.js";

test("dscp_read remembers DSCP per flow hash and forgets flows without one", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("dscp_read");
  const m = p.map("flow_dscps");
  const ef = netFrame({ ip: 4, proto: "udp", tos: 0xb8, sport: 1111 });
  const af = netFrame({ ip: 6, proto: "tcp", tos: 0x28, sport: 2222 });
  for (const f of [ef, af]) assert.equal(p.run(f).retval, 0);
  const values = () => [...m.entriesSync()].map(([, v]) => v[0]).sort((a, b) => a! - b!);
  assert.deepEqual(values(), [0x28, 46], "IPv4 DSCP 46; IPv6: the traffic class as read");
  // the same IPv4 flow without DSCP: its entry goes
  assert.equal(p.run(netFrame({ ip: 4, proto: "udp", tos: 0, sport: 1111 })).retval, 0);
  assert.deepEqual(values(), [0x28]);
  assert.equal(p.run(rawFrame(0x0806)).retval, 0);
  assert.deepEqual(values(), [0x28]);
});

test("dscp_write writes the remembered DSCP, keeps ECN, and the IPv4 checksum stays valid", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("dscp_write");
  const f = netFrame({ ip: 4, proto: "tcp", tos: 0x01 });
  let r = p.run(f);
  assert.deepEqual(r.out, f, "no flow remembered: untouched");
  p.map("flow_dscps").set(u32le(0), Uint8Array.of(46)); // test runs leave skb->hash 0
  for (const tos of [0x00, 0x01, 0x03, 0xfc, 0x29]) {
    const g = netFrame({ ip: 4, proto: "udp", tos, payload: "dscp" });
    r = p.run(g);
    assert.equal(r.retval, 0);
    assert.equal(r.out[15], 0xb8 | (tos & 3), `tos ${tos}`);
    assert.ok(checksumOk(r.out.subarray(14, 34)), `header checksum after tos ${tos}`);
    assert.deepEqual(r.out.subarray(34), g.subarray(34));
  }
  const v6 = netFrame({ ip: 6, proto: "udp", tos: 0x02 });
  r = p.run(v6);
  const first = (r.out[14]! << 8) | r.out[15]!;
  assert.equal((first >> 4) & 0xff, 0xb8 | 2, "IPv6 traffic class: DSCP 46, ECN kept");
  assert.equal(first >> 12, 6);
  assert.deepEqual(r.out.subarray(16), v6.subarray(16), "flow label and the rest untouched");
});

test("tc_policy_txq and bootstrap_tc let every packet through", async (t) => {
  if (!needsKernel(t)) return;
  using q = await loadPort("tc_policy_txq");
  using b = await loadPort("bootstrap_tc");
  for (const f of [
    netFrame({ ip: 4, proto: "tcp" }),
    netFrame({ ip: 6, proto: "udp" }),
    rawFrame(0x0806),
  ]) {
    assert.equal(q.run(f).retval, 0);
    assert.equal(b.run(f).retval, 0);
  }
});

test("bootstrap_sockfilter: one ring record per unfragmented IPv4 packet, the packet kept", async (t) => {
  if (!needsKernel(t, { feature: "ringbuf" })) return;
  using p = await loadPort("bootstrap_sockfilter");
  using reader = RingBufReader.open(p.map("rb"), { copy: true });
  const cases: { f: Uint8Array; keep: boolean; proto?: number; ports?: number[] }[] = [
    {
      f: netFrame({ ip: 4, proto: "tcp", sport: 4242, dport: 80 }),
      keep: true,
      proto: 6,
      ports: [0x10, 0x92, 0, 80],
    },
    {
      f: netFrame({ ip: 4, proto: "udp", sport: 53, dport: 3333, ipOptionWords: 1 }),
      keep: true,
      proto: 17,
      ports: [0, 53, 0x0d, 0x05],
    },
    { f: netFrame({ ip: 4, proto: 47, payload: "\x00\x00\x08\x00" }), keep: true, proto: 47 },
    { f: netFrame({ ip: 4, proto: "udp", frag: 0x2000 }), keep: false },
    { f: netFrame({ ip: 4, proto: "udp", frag: 0x0008 }), keep: false },
    { f: netFrame({ ip: 6, proto: "tcp" }), keep: false },
    { f: rawFrame(0x0806), keep: false },
  ];
  for (const c of cases) {
    const r = p.run(forPacketSocket(c.f));
    assert.equal(r.retval, c.keep ? c.f.length : 0);
    const evs = reader.readBatch();
    assert.equal(evs.length, c.keep ? 1 : 0);
    if (!c.keep) continue;
    const e = evs[0]!;
    const dv = new DataView(e.buffer, e.byteOffset, e.byteLength);
    assert.equal(dv.getUint32(12, true), c.proto);
    if (c.proto !== 47) {
      assert.deepEqual([...e.subarray(0, 4)], [10, 0, 0, 1]);
      assert.deepEqual([...e.subarray(4, 8)], [10, 0, 0, 2]);
    } else assert.deepEqual([...e.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0], "GRE: no addresses");
    if (c.ports) assert.deepEqual([...e.subarray(8, 12)], c.ports);
  }
});
