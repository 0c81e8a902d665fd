// The xdp-tutorial ports of the network zoo (bench/compiler/zoo/net/programs/tutorial_*.ts)
// on crafted frames, against expectations written here: verdicts, packets out (rewritten
// ports, pushed and popped VLAN tags, echo replies with valid checksums), stats maps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { checksumOk, onesSum, pseudo4 } from "../../support/frames.js";
import { netFrame, rawFrame, u32le } from "../../../bench/compiler/zoo/net/frames.js";
import { loadPort, perCpuSum, XDP } from "./support.js";

const frames = () => [
  netFrame({ ip: 4, proto: "tcp" }),
  netFrame({ ip: 6, proto: "udp", payload: "x" }),
  netFrame({ ip: 4, proto: "icmp", seq: 2 }),
  rawFrame(0x0806),
];

test("basic01/02: every frame passes / is dropped, untouched", async (t) => {
  if (!needsKernel(t)) return;
  using pass = await loadPort("tutorial_basic01_pass");
  using drop = await loadPort("tutorial_basic02_drop");
  for (const f of frames()) {
    assert.equal(pass.run(f).retval, XDP.PASS);
    assert.deepEqual(pass.run(f).out, f);
    assert.equal(drop.run(f).retval, XDP.DROP);
  }
});

test("basic03: the XDP_PASS slot counts packets with an atomic add", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("tutorial_basic03_count");
  for (const f of frames()) assert.equal(p.run(f).retval, XDP.PASS);
  const m = p.map("xdp_stats_map");
  const v = m.get(u32le(2))!;
  assert.equal(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true), 4n);
  assert.equal(new DataView(m.get(u32le(1))!.buffer).getBigUint64(0, true), 0n);
});

test("basic04: per-CPU packets and bytes of the XDP_PASS slot", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("tutorial_basic04_stats");
  const fs = frames();
  for (const f of fs) assert.equal(p.run(f).retval, XDP.PASS);
  const [pk, by] = perCpuSum(p.map("xdp_stats_map").perCpu().get(u32le(2))!);
  assert.equal(pk, 4n);
  assert.equal(by, BigInt(fs.reduce((n, f) => n + f.length, 0)));
});

test("packet01: echo requests with an even sequence are dropped, the rest passes", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("tutorial_packet01_parse");
  const cases: [Uint8Array, number][] = [
    [netFrame({ ip: 4, proto: "icmp", seq: 2 }), XDP.DROP],
    [netFrame({ ip: 4, proto: "icmp", seq: 3 }), XDP.PASS],
    [netFrame({ ip: 4, proto: "icmp", icmpType: 0, seq: 2 }), XDP.PASS],
    [netFrame({ ip: 6, proto: "icmp", seq: 0x100 }), XDP.DROP],
    [netFrame({ ip: 6, proto: "icmp", seq: 0x101 }), XDP.PASS],
    [netFrame({ ip: 6, proto: "icmp", icmpType: 129, seq: 4 }), XDP.PASS],
    [netFrame({ ip: 4, proto: "udp" }), XDP.PASS],
    [rawFrame(0x0806), XDP.PASS],
  ];
  for (const [f, want] of cases) assert.equal(p.run(f).retval, want);
  const stats = p.map("xdp_stats_map").perCpu();
  assert.equal(perCpuSum(stats.get(u32le(XDP.DROP))!)[0], 2n);
  assert.equal(perCpuSum(stats.get(u32le(XDP.PASS))!)[0], 6n);
});

/** The original's checksum bump: +1 on the low byte without carry, 0 becomes 1. */
const bump = (c: number) => {
  const x = (c & 0xff00) | ((c + 1) & 0xff);
  return x === 0 ? 1 : x;
};

test("packet02 ports: destination port minus one, checksum patched as the original does", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("tutorial_packet02_ports");
  for (const [ip, proto, dport] of [
    [4, "tcp", 80],
    [4, "udp", 53],
    [6, "tcp", 443],
    [6, "udp", 0],
  ] as const) {
    const f = netFrame({ ip, proto, dport, payload: "abc" });
    const l4 = 14 + (ip === 4 ? 20 : 40);
    const at = l4 + (proto === "tcp" ? 16 : 6);
    const dv = new DataView(f.buffer);
    const r = p.run(f);
    assert.equal(r.retval, XDP.PASS);
    const o = new DataView(r.out.buffer, r.out.byteOffset);
    assert.equal(o.getUint16(l4 + 2), (dport - 1) & 0xffff);
    assert.equal(o.getUint16(at), bump(dv.getUint16(at)));
    // where no carry is lost (and the port does not wrap from 0 to 0xffff, which is the
    // same one's-complement number), the patched checksum is the right one
    if ((dv.getUint16(at) & 0xff) !== 0xff && dport !== 0) {
      const seg = r.out.subarray(l4);
      const pseudo =
        ip === 4
          ? pseudo4(
              r.out.subarray(26, 30),
              r.out.subarray(30, 34),
              proto === "tcp" ? 6 : 17,
              seg.length,
            )
          : onesSum(
              Uint8Array.of(
                ...r.out.subarray(22, 54),
                0,
                0,
                seg.length >> 8,
                seg.length & 0xff,
                0,
                0,
                0,
                proto === "tcp" ? 6 : 17,
              ),
            );
      assert.ok(checksumOk(seg, pseudo), `${ip} ${proto} checksum`);
    }
  }
  const bad = netFrame({ ip: 4, proto: "udp" });
  new DataView(bad.buffer).setUint16(14 + 20 + 4, 7); // UDP length below 8
  assert.equal(p.run(bad).retval, XDP.ABORTED);
  const doff = netFrame({ ip: 4, proto: "tcp" });
  doff[14 + 20 + 12] = 4 << 4;
  assert.equal(p.run(doff).retval, XDP.ABORTED);
  assert.deepEqual(p.run(doff).out, doff);
});

test("packet02 VLAN swap: pushes tag 1 on untagged frames, pops the outer tag", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("tutorial_packet02_vlan");
  const plain = netFrame({ ip: 4, proto: "udp", payload: "v" });
  const pushed = p.run(plain);
  assert.equal(pushed.retval, XDP.PASS);
  const want = new Uint8Array(plain.length + 4);
  want.set(plain.subarray(0, 12), 0);
  want.set([0x81, 0x00, 0x00, 0x01], 12);
  want.set(plain.subarray(12), 16);
  assert.deepEqual(pushed.out, want);
  // and back
  assert.deepEqual(p.run(want).out, plain);
  const qinq = netFrame({
    ip: 6,
    proto: "tcp",
    vlans: [
      [0x88a8, 0x2064],
      [0x8100, 7],
    ],
  });
  const popped = p.run(qinq).out;
  assert.deepEqual(popped, netFrame({ ip: 6, proto: "tcp", vlans: [[0x8100, 7]] }));
  const cut = rawFrame(0x8100, 16);
  assert.deepEqual(p.run(cut).out, cut, "a tag cut short is left alone");
});

/** ICMPv6 checksum over pseudo-header and message. */
function icmp6Ok(f: Uint8Array): boolean {
  const msg = f.subarray(54);
  const b = new Uint8Array(40 + msg.length + (msg.length % 2));
  b.set(f.subarray(22, 54), 0);
  new DataView(b.buffer).setUint32(32, msg.length);
  b[39] = 58;
  b.set(msg, 40);
  return (onesSum(b) & 0xffff) === 0xffff;
}

test("packet03 echo: requests become replies, addresses swapped, checksums valid", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("tutorial_packet03_echo");
  for (const seq of [1, 0xff, 0x1234]) {
    const f = netFrame({
      ip: 4,
      proto: "icmp",
      seq,
      src: [192, 0, 2, 1],
      dst: [10, 9, 9, 9],
      payload: "echo",
    });
    const r = p.run(f);
    assert.equal(r.retval, XDP.TX);
    const o = r.out;
    assert.deepEqual([...o.subarray(0, 6)], [...f.subarray(6, 12)]);
    assert.deepEqual([...o.subarray(14 + 12, 14 + 16)], [10, 9, 9, 9]);
    assert.deepEqual([...o.subarray(14 + 16, 14 + 20)], [192, 0, 2, 1]);
    assert.equal(o[34], 0, "echo reply");
    assert.ok(checksumOk(o.subarray(14, 34)), "IPv4 header checksum");
    assert.ok(checksumOk(o.subarray(34)), "ICMP checksum");
    const v6 = netFrame({ ip: 6, proto: "icmp", seq, payload: "echo6" });
    const r6 = p.run(v6);
    assert.equal(r6.retval, XDP.TX);
    assert.equal(r6.out[54], 129);
    assert.deepEqual([...r6.out.subarray(22, 38)], [...v6.subarray(38, 54)]);
    assert.ok(icmp6Ok(r6.out), "ICMPv6 checksum");
  }
  const reply = netFrame({ ip: 4, proto: "icmp", icmpType: 0 });
  assert.equal(p.run(reply).retval, XDP.PASS);
  assert.deepEqual(p.run(reply).out, reply);
  const tx = perCpuSum(p.map("xdp_stats_map").perCpu().get(u32le(XDP.TX))!);
  assert.equal(tx[0], 6n);
});

test("packet03 redirect: zero destination MAC, bpf_redirect to ifindex 0", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("tutorial_packet03_redirect");
  const f = netFrame({ ip: 4, proto: "tcp" });
  const r = p.run(f);
  assert.equal(r.retval, XDP.REDIRECT);
  assert.deepEqual([...r.out.subarray(0, 6)], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(r.out.subarray(6), f.subarray(6));
});
