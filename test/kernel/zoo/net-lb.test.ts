// The Katran ports of the network zoo on crafted frames: the load balancer's ring pick (a
// jhash model written here), its IPIP encapsulation (outer header checked field by field and
// by its checksum, the inner frame intact), its counters; and Katran's packet counter.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { checksumOk } from "../../support/frames.js";
import { netFrame, rawFrame, u32le } from "../../../bench/compiler/zoo/net/frames.js";
import { KATRAN, katranMaps } from "../../../bench/compiler/zoo/net/index.js";
import { loadPort, perCpuSum, XDP, type Port } from "./support.js";

const rol = (w: number, s: number) => ((w << s) | (w >>> (32 - s))) >>> 0;
/** lookup3's jhash_2words, the reference for the ring pick */
function jhash2(a: number, b: number, init: number): number {
  const iv = (init + 0xdeadbeef + 8) >>> 0;
  a = (a + iv) >>> 0;
  b = (b + iv) >>> 0;
  let c = iv;
  c = ((c ^ b) - rol(b, 14)) >>> 0;
  a = ((a ^ c) - rol(c, 11)) >>> 0;
  b = ((b ^ a) - rol(a, 25)) >>> 0;
  c = ((c ^ b) - rol(b, 16)) >>> 0;
  a = ((a ^ c) - rol(c, 4)) >>> 0;
  b = ((b ^ a) - rol(a, 14)) >>> 0;
  c = ((c ^ b) - rol(b, 24)) >>> 0;
  return c;
}
const le32 = (b: Uint8Array, at: number) =>
  new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const le16 = (b: Uint8Array, at: number) =>
  new DataView(b.buffer, b.byteOffset).getUint16(at, true);

function setup(p: Port): void {
  for (const [name, rows] of Object.entries(katranMaps()))
    for (const [k, v] of rows) p.map(name).set(k, v);
}

/** The real KATRAN's ring gives this frame of VIP `vip` (flags per KATRAN.vips). */
function pick(f: Uint8Array, vip: number, flags: number, portZero: boolean): number {
  let src = le32(f, 26);
  let sport = le16(f, 34);
  const dport = portZero ? 0 : le16(f, 36);
  if (flags & 1) sport = 0;
  if (flags & 8) {
    sport = dport;
    src = 0;
  }
  const hash = jhash2(src, (sport | (dport << 16)) >>> 0, 32 * 257) % 257;
  return KATRAN.ring(vip, hash);
}

test("katran_lb: VIP traffic is hashed to a real and sent back IPIP-encapsulated", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("katran_lb");
  setup(p);
  const vip = [10, 0, 0, 100];
  const seen = new Set<number>();
  let tx = 0;
  let bytes = 0n;
  for (let i = 0; i < 24; i++) {
    const f = netFrame({
      ip: 4,
      proto: "tcp",
      src: [192, 0, 2, i],
      dst: vip,
      sport: 20000 + 13 * i,
      dport: 80,
      tcpFlags: 0x02,
    });
    const real = pick(f, 1, 0, false);
    const r = p.run(f);
    assert.equal(r.retval, XDP.TX);
    const o = r.out;
    assert.equal(o.length, f.length + 20);
    assert.deepEqual([...o.subarray(0, 6)], KATRAN.gatewayMac, "to the gateway");
    assert.deepEqual([...o.subarray(6, 12)], [...f.subarray(0, 6)], "from the MAC it came to");
    assert.deepEqual([...o.subarray(12, 14)], [0x08, 0x00]);
    const ip = o.subarray(14, 34);
    assert.equal(ip[0], 0x45);
    assert.equal((ip[2]! << 8) | ip[3]!, f.length - 14 + 20, "outer total length");
    assert.equal(ip[8], 64);
    assert.equal(ip[9], 4, "IPIP");
    assert.ok(checksumOk(ip), "outer header checksum");
    // 172.16, then the last two source-address bytes xor the source port, low byte first
    const sp = 20000 + 13 * i;
    assert.deepEqual([...ip.subarray(12, 16)], [172, 16, (sp & 0xff) ^ 2, (sp >> 8) ^ i]);
    assert.deepEqual([...ip.subarray(16, 20)], [10, 1, 0, real], `real ${real}`);
    assert.deepEqual(o.subarray(34), f.subarray(14), "the inner packet");
    seen.add(real);
    tx++;
    bytes += BigInt(f.length - 14);
  }
  assert.equal(seen.size, 3, "the flows spread over the three reals");
  const stats = p.map("stats").perCpu();
  assert.deepEqual(perCpuSum(stats.get(u32le(1))!), [BigInt(tx), bytes], "VIP 1 packets, bytes");
  assert.equal(perCpuSum(stats.get(u32le(32 + 17))!)[0], BigInt(tx), "XDP_TX counter");
  assert.equal(perCpuSum(stats.get(u32le(32 + 1))!)[0], BigInt(tx), "SYNs counted as LRU misses");
});

test("katran_lb: port-0 VIPs, hash flags, ring holes, IPv6 reals and what is not balanced", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("katran_lb");
  setup(p);
  // UDP to any port of 10.0.0.100 (VIP 2): half its ring is empty (real 0: dropped)
  let drops = 0;
  let sent = 0;
  for (let i = 0; i < 16; i++) {
    const f = netFrame({
      ip: 4,
      proto: "udp",
      src: [198, 51, 100, i],
      dst: [10, 0, 0, 100],
      sport: 4000 + i,
      dport: 7000 + i,
    });
    const real = pick(f, 2, 0, true);
    const r = p.run(f);
    if (real === 0) {
      assert.equal(r.retval, XDP.DROP);
      drops++;
    } else {
      assert.equal(r.retval, XDP.TX);
      assert.equal(r.out[33], real);
      sent++;
    }
  }
  assert.ok(drops > 0 && sent > 0);
  assert.equal(
    perCpuSum(
      p
        .map("stats")
        .perCpu()
        .get(u32le(32 + 9))!,
    )[1],
    BigInt(drops),
  );
  // VIP 3 hashes without the source port; its ring points at an IPv6 real: dropped
  assert.equal(
    p.run(netFrame({ ip: 4, proto: "udp", dst: [10, 0, 0, 101], dport: 53 })).retval,
    XDP.DROP,
  );
  // VIP 4 hashes the destination port only: every client lands on the same real
  const reals = new Set<number>();
  for (let i = 0; i < 8; i++) {
    const f = netFrame({
      ip: 4,
      proto: "tcp",
      src: [203, 0, 113, i],
      sport: 1000 + i,
      dst: [10, 0, 0, 102],
      dport: 443,
    });
    const r = p.run(f);
    assert.equal(r.retval, XDP.TX);
    assert.equal(r.out[33], pick(f, 4, 8, false));
    // the hash cleared the source address, and the outer source is derived from it
    assert.deepEqual([...r.out.subarray(26, 30)], [172, 16, (1000 + i) & 0xff, (1000 + i) >> 8]);
    reals.add(r.out[33]!);
  }
  assert.equal(reals.size, 1);
  const vip = [10, 0, 0, 100];
  const pass: Uint8Array[] = [
    netFrame({ ip: 4, proto: "tcp", dst: vip, dport: 81 }),
    netFrame({ ip: 4, proto: "tcp", dst: [10, 0, 0, 7], dport: 80 }),
    netFrame({ ip: 4, proto: "icmp", dst: vip }),
    netFrame({ ip: 6, proto: "tcp" }),
    rawFrame(0x0806),
  ];
  for (const f of pass) {
    const r = p.run(f);
    assert.equal(r.retval, XDP.PASS);
    assert.deepEqual(r.out, f);
  }
  const drop: Uint8Array[] = [
    netFrame({ ip: 4, proto: "udp", dst: vip, dport: 9000, frag: 0x2000 }),
    netFrame({ ip: 4, proto: "tcp", dst: vip, dport: 80, ipOptionWords: 1 }),
    netFrame({ ip: 4, proto: "tcp", dst: vip, dport: 80, payload: new Uint8Array(1560) }),
    netFrame({ ip: 4, proto: "tcp", dst: vip }).subarray(0, 14 + 20 + 12),
  ];
  for (const f of drop) assert.equal(p.run(f).retval, XDP.DROP);
});

test("katran_pktcntr: counts only while the control flag is set", async (t) => {
  if (!needsKernel(t)) return;
  using p = await loadPort("katran_pktcntr");
  const f = netFrame({ ip: 4, proto: "udp" });
  assert.equal(p.run(f).retval, XDP.PASS);
  const cnt = () => perCpuSum(p.map("cntrs_array").perCpu().get(u32le(0))!)[0];
  assert.equal(cnt(), 0n);
  p.map("ctl_array").set(u32le(0), u32le(1));
  for (let i = 0; i < 5; i++) assert.equal(p.run(f).retval, XDP.PASS);
  assert.equal(cnt(), 5n);
});
