// Header kinds beyond TCP/UDP run by the kernel on crafted frames (BPF_PROG_TEST_RUN) against
// reference models written here: ICMP/ICMPv6, VLAN and QinQ tags, an ARP responder (XDP_TX,
// the example of docs/probe-language.md),
// loop bounds computed from a read's length, and csumReplace checked against full checksum
// recomputation on random data.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { needsKernel } from "../../support/kernel.js";
import { Collection } from "../../../src/load/collection.js";
import { compileSource } from "../../unit/compiler/support.js";
import { checksum, icmpEcho, ipv4Frame, onesSum, udp4 } from "../../support/frames.js";
import { ARP_RESPONDER } from "./packet-write-probes.js";

function arpRequest(senderMac: number[], senderIp: number[], targetIp: number[]): Uint8Array {
  const f = new Uint8Array(14 + 28 + 18); // padded to 60 bytes
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
  f.set(senderMac, 6);
  f.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
  f.set(senderMac, 22);
  f.set(senderIp, 28);
  f.set(targetIp, 38);
  return f;
}

test("an XDP ARP responder answers requests for its address (reference model)", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(ARP_RESPONDER, { raw: true }).elf);
  const prog = coll.programs.get("arp_reply")!;
  const mac = [2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee];
  const req = arpRequest(mac, [10, 0, 0, 5], [10, 0, 0, 99]);
  const r = prog.testRun({ data: req });
  assert.equal(r.retval, 3);
  const want = req.slice();
  want.set(mac, 0);
  want.set([2, 0, 0, 0, 0, 0x63], 6);
  want[21] = 2;
  want.set([2, 0, 0, 0, 0, 0x63], 22);
  want.set([10, 0, 0, 99], 28);
  want.set(mac, 32);
  want.set([10, 0, 0, 5], 38);
  assert.deepEqual([...r.dataOut!], [...want]);
  // Another address, a reply, a non-Ethernet/IPv4 ARP, a short frame: passed untouched.
  const other = arpRequest(mac, [10, 0, 0, 5], [10, 0, 0, 98]);
  const reply = req.slice();
  reply[21] = 2;
  const weird = req.slice();
  weird[15] = 6; // hardware type 6
  for (const f of [other, reply, weird, req.subarray(0, 40)]) {
    const x = prog.testRun({ data: f });
    assert.equal(x.retval, 2);
    assert.deepEqual([...x.dataOut!], [...f]);
  }
});

const HEADERS = `
import { program, xdp, map, ArrayMap, XdpAction } from "tsbpf/probe";
import { struct, u32 } from "tsbpf/types";
program({ license: "GPL" });
const Seen = struct("Seen", {
  outer: u32, outerPrio: u32, inner: u32, proto: u32,
  icmpType: u32, icmpId: u32, icmpSeq: u32, icmpProto: u32, crlf: u32,
});
const seen = map("seen", new ArrayMap(Seen, { maxEntries: 1 }));

export const headers = xdp((ctx) => {
  const s = seen.get(0);
  if (!s) return XdpAction.Aborted;
  const v = ctx.vlan();
  if (v) {
    s.outer = v.id;
    s.outerPrio = v.priority;
    s.proto = v.protocol;
    const w = ctx.vlan(1);
    if (w) {
      s.inner = w.id;
      s.proto = w.protocol;
    }
  }
  const i = ctx.icmp();
  if (i) {
    s.icmpType = i.type;
    s.icmpId = i.id;
    s.icmpSeq = i.sequence;
    s.icmpProto = i.protocol === "icmpv6" ? 58 : i.protocol === "icmp" ? 1 : 0;
  }
  const d = ctx.data();
  const h = d && d.read(16);
  if (h) {
    // the first CR LF LF CR... pair: a bound computed from the read's length
    for (let k = 0; k < h.length - 1; k++) {
      if (h.at(k) === 13 && h.at(k + 1) === 10) {
        s.crlf = k + 1;
        break;
      }
    }
  }
  return XdpAction.Pass;
});
`;

function icmp6Frame(type: number, id: number, seq: number): Uint8Array {
  const f = new Uint8Array(14 + 40 + 8 + 4);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, 0x86dd);
  f[14] = 0x60;
  dv.setUint16(14 + 4, 12);
  f[14 + 6] = 58;
  f[14 + 7] = 64;
  f[54] = type;
  dv.setUint16(58, id);
  dv.setUint16(60, seq);
  return f;
}

test("VLAN/QinQ tags, ICMP and ICMPv6 fields, and a loop bound of head.length - 1", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(HEADERS, { raw: true }).elf);
  const prog = coll.programs.get("headers")!;
  const seen = coll.maps.get("seen")!;
  const read = (f: Uint8Array) => {
    seen.set(new Uint8Array(4) as never, new Uint8Array(36) as never);
    assert.equal(prog.testRun({ data: f }).retval, 2);
    const v = seen.get(new Uint8Array(4) as never) as Uint8Array;
    const dv = new DataView(v.buffer, v.byteOffset);
    return Array.from({ length: 9 }, (_, i) => dv.getUint32(i * 4, true));
  };
  const icmp = icmpEcho(0x1234, 0x0102, new Uint8Array(8));
  // plain ICMP
  assert.deepEqual(read(ipv4Frame({ proto: 1, l4: icmp })), [0, 0, 0, 0, 8, 0x1234, 0x0102, 1, 0]);
  // one 802.1Q tag: id 42, priority 5; IP behind it is not parsed by ip()
  const tagged = ipv4Frame({ proto: 1, l4: icmp, vlans: [(5 << 13) | 42] });
  assert.deepEqual(read(tagged), [42, 5, 0, 0x0800, 0, 0, 0, 0, 0]);
  // QinQ: 802.1ad outer 100, 802.1Q inner 7
  const qinq = ipv4Frame({ proto: 1, l4: icmp, vlans: [100, 7] });
  assert.deepEqual(read(qinq), [100, 0, 7, 0x0800, 0, 0, 0, 0, 0]);
  // ICMPv6 echo request
  assert.deepEqual(read(icmp6Frame(128, 9, 10)), [0, 0, 0, 0, 128, 9, 10, 58, 0]);
  // ICMP options shift the header: still found
  const opt = ipv4Frame({ proto: 1, l4: icmp, optionWords: 3 });
  assert.equal(read(opt)[5], 0x1234);
  // a truncated ICMP header: no view
  assert.deepEqual(
    read(ipv4Frame({ proto: 1, l4: icmp.subarray(0, 6) })).slice(4, 8),
    [0, 0, 0, 0],
  );
  // UDP payload with CR LF at 6-7 and at 14-15
  const text = new TextEncoder().encode("GET / \r\nHost: \r\n");
  assert.equal(read(ipv4Frame({ proto: 17, l4: udp4(1, 2, text) }))[8], 7);
  const late = new TextEncoder().encode("xxxxxxxxxxxxxx\r\n");
  assert.equal(read(ipv4Frame({ proto: 17, l4: udp4(1, 2, late) }))[8], 15);
});

const CSUM = `
import { program, xdp, map, ArrayMap, XdpAction, csumReplace } from "tsbpf/probe";
import { struct, u32 } from "tsbpf/types";
program({ license: "GPL" });
const Q = struct("Q", { check: u32, from: u32, to: u32, r2: u32, r4: u32 });
const q = map("q", new ArrayMap(Q, { maxEntries: 1 }));
export const csum = xdp(() => {
  const x = q.get(0);
  if (!x) return XdpAction.Aborted;
  x.r2 = csumReplace(x.check, x.from & 0xffff, x.to & 0xffff);
  x.r4 = csumReplace(x.check, x.from, x.to, 4);
  return XdpAction.Pass;
});
`;

test("csumReplace gives the checksum a full recomputation gives (16- and 32-bit fields)", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(CSUM, { raw: true }).elf);
  const prog = coll.programs.get("csum")!;
  const q = coll.maps.get("q")!;
  const same = (a: number, b: number) =>
    a === b || (a === 0xffff && b === 0) || (a === 0 && b === 0xffff);
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 12 }),
      fc.nat(),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      (words, at, n1, n2) => {
        const i = at % (words.length - 1);
        const bytes = (ws: number[]) => new Uint8Array(ws.flatMap((w) => [w >> 8, w & 0xff]));
        const check = checksum(bytes(words));
        const w4 = words.slice();
        w4[i] = n1;
        w4[i + 1] = n2;
        const from4 = ((words[i]! << 16) | words[i + 1]!) >>> 0;
        const to4 = ((n1 << 16) | n2) >>> 0;
        const inp = new Uint8Array(20);
        const dv = new DataView(inp.buffer);
        dv.setUint32(0, check, true);
        dv.setUint32(4, from4, true);
        dv.setUint32(8, to4, true);
        q.set(new Uint8Array(4) as never, inp as never);
        assert.equal(prog.testRun({ data: new Uint8Array(64) }).retval, 2);
        const o = q.get(new Uint8Array(4) as never) as Uint8Array;
        const out = new DataView(o.buffer, o.byteOffset);
        // r2 replaced the low 16 bits of from4 (words[i + 1]) by those of to4 (n2)
        const w2b = words.slice();
        w2b[i + 1] = n2;
        assert.ok(same(out.getUint32(12, true), checksum(bytes(w2b))), "16-bit");
        assert.ok(same(out.getUint32(16, true), checksum(bytes(w4))), "32-bit");
      },
    ),
    { numRuns: 200 },
  );
});

const HELPER_PTRS = `
import { program, xdp, map, ArrayMap, XdpAction, helper } from "tsbpf/probe";
import { struct, array, u8, u64, type Infer } from "tsbpf/types";
program({ license: "GPL" });
const Buf = struct("Buf", { b: array(u8, 8), sum: u64, sumEth: u64 });
const out = map("out", new ArrayMap(Buf, { maxEntries: 1 }));

export const ptrs = xdp((ctx) => {
  const buf: Infer<typeof Buf> = { b: new Uint8Array(8), sum: 0n, sumEth: 0n };
  // bpf_xdp_load_bytes(ctx, 14, buf.b, 8): ctx and an array field passed as pointers
  if (helper(189, ctx, 14, buf.b, 8) !== 0n) return XdpAction.Aborted;
  // bpf_csum_diff(NULL, 0, buf.b, 8, 0) and over a header view (the Ethernet header's 12 bytes)
  buf.sum = helper(28, 0, 0, buf.b, 8, 0);
  const eth = ctx.eth();
  if (eth) buf.sumEth = helper(28, 0, 0, eth, 12, 0);
  out.set(0, buf);
  return XdpAction.Pass;
});
`;

test("helper() passes ctx, array fields and header views as pointers", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(HELPER_PTRS, { raw: true }).elf);
  const f = ipv4Frame({ proto: 17, l4: udp4(1234, 5678, new Uint8Array(4)) });
  assert.equal(coll.programs.get("ptrs")!.testRun({ data: f }).retval, 2);
  const v = coll.maps.get("out")!.get(new Uint8Array(4) as never) as Uint8Array;
  assert.deepEqual([...v.subarray(0, 8)], [...f.subarray(14, 22)]);
  const dv = new DataView(v.buffer, v.byteOffset);
  // csum_diff sums little-endian 16-bit words: fold it, swap it, compare with the
  // big-endian one's-complement sum (0 and 0xffff are the same number).
  const folded = (x: bigint) => {
    let s = Number(x & 0xffffffffn);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return ((s & 0xff) << 8) | (s >> 8);
  };
  const same = (a: number, b: number) =>
    a === b || (a === 0 && b === 0xffff) || (a === 0xffff && b === 0);
  assert.ok(same(folded(dv.getBigUint64(8, true)), onesSum(f.subarray(14, 22))));
  assert.ok(same(folded(dv.getBigUint64(16, true)), onesSum(f.subarray(0, 12))));
});

const READ_N = `
import { program, xdp, map, ArrayMap, XdpAction } from "tsbpf/probe";
import { struct, u32 } from "tsbpf/types";
program({ license: "GPL" });
const R = struct("R", { ok: u32, len: u32, last: u32, b3: u32, get: u32 });
const r = map("r", new ArrayMap(R, { maxEntries: 1 }));

/** The payload's first byte says how many bytes follow; read them (at most 16). */
export const readn = xdp((ctx) => {
  const s = r.get(0);
  const d = ctx.data();
  const h = d && d.read(1);
  if (!s || !d || !h) return XdpAction.Pass;
  const n = h.at(0) + 1;
  const b = d.read(n, 16);
  if (!b) return XdpAction.Drop;
  s.ok = 1;
  s.len = b.length;
  s.last = b.at(n - 1);
  s.b3 = b.at(3);
  s.get = b.startsWith("\\x05GET") ? 1 : 0;
  return XdpAction.Pass;
});
`;

test("read(n, max) with a run-time n: length, run-time and constant indexes, startsWith", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(READ_N, { raw: true }).elf);
  const prog = coll.programs.get("readn")!;
  const r = coll.maps.get("r")!;
  const run = (payload: number[]) => {
    r.set(new Uint8Array(4) as never, new Uint8Array(20) as never);
    const ret = prog.testRun({
      data: ipv4Frame({ proto: 17, l4: udp4(1, 2, new Uint8Array(payload)) }),
    }).retval;
    const v = r.get(new Uint8Array(4) as never) as Uint8Array;
    const dv = new DataView(v.buffer, v.byteOffset);
    return [ret, ...Array.from({ length: 5 }, (_, i) => dv.getUint32(i * 4, true))];
  };
  // n = 6: "\\x05GET /"
  assert.deepEqual(run([5, 0x47, 0x45, 0x54, 0x20, 0x2f, 0x99]), [2, 1, 6, 0x2f, 0x54, 1]);
  // n = 3: at(3) is outside the bytes read: 0
  assert.deepEqual(run([2, 7, 8, 9]), [2, 1, 3, 8, 0, 0]);
  // n = 17 > 16: null
  assert.deepEqual(run([16, ...Array(20).fill(1)]), [1, 0, 0, 0, 0, 0]);
  // n = 10 but only 4 bytes in the packet: null
  assert.deepEqual(run([9, 1, 2, 3]), [1, 0, 0, 0, 0, 0]);
});

const EXT = `
import { program, xdp, map, ArrayMap, XdpAction } from "tsbpf/probe";
import { struct, u32 } from "tsbpf/types";
program({ license: "GPL" });
const E = struct("E", { port: u32, off: u32, plain: u32 });
const r = map("r", new ArrayMap(E, { maxEntries: 1 }));

export const ext = xdp((ctx) => {
  const s = r.get(0);
  if (!s) return XdpAction.Pass;
  const t = ctx.transport({ ipv6Extensions: true });
  if (t && t.protocol === "udp") s.port = t.dest();
  const d = ctx.data({ ipv6Extensions: true });
  if (d) s.off = d.offset();
  const plain = ctx.transport();
  if (plain) s.plain = plain.dest();
  return XdpAction.Pass;
});
`;

/** IPv6 + the given extension headers (type, length in bytes) + UDP to port 53. */
function ipv6Ext(exts: [number, number, number?][]): Uint8Array {
  const extLen = exts.reduce((a, [, l]) => a + l, 0);
  const f = new Uint8Array(14 + 40 + extLen + 8 + 4);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, 0x86dd);
  f[14] = 0x60;
  dv.setUint16(18, extLen + 12);
  f[20] = exts.length ? exts[0]![0] : 17;
  f[21] = 64;
  let o = 54;
  exts.forEach(([type, len, fragOff], i) => {
    f[o] = i + 1 < exts.length ? exts[i + 1]![0] : 17;
    if (type === 44) dv.setUint16(o + 2, (fragOff ?? 0) << 3);
    else if (type === 51) f[o + 1] = len / 4 - 2;
    else f[o + 1] = len / 8 - 1;
    o += len;
  });
  dv.setUint16(o, 1111);
  dv.setUint16(o + 2, 53);
  dv.setUint16(o + 4, 12);
  return f;
}

test("transport({ ipv6Extensions: true }) walks up to 4 IPv6 extension headers", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(EXT, { raw: true }).elf);
  const prog = coll.programs.get("ext")!;
  const r = coll.maps.get("r")!;
  const run = (f: Uint8Array) => {
    r.set(new Uint8Array(4) as never, new Uint8Array(12) as never);
    assert.equal(prog.testRun({ data: f }).retval, 2);
    const v = r.get(new Uint8Array(4) as never) as Uint8Array;
    const dv = new DataView(v.buffer, v.byteOffset);
    return [0, 4, 8].map((o) => dv.getUint32(o, true));
  };
  assert.deepEqual(run(ipv6Ext([])), [53, 62, 53]);
  // hop-by-hop (8) + destination options (16): found behind them; the plain parse is null
  assert.deepEqual(
    run(
      ipv6Ext([
        [0, 8],
        [60, 16],
      ]),
    ),
    [53, 62 + 24, 0],
  );
  // routing (24) + first fragment (8) + authentication (12)
  assert.deepEqual(
    run(
      ipv6Ext([
        [43, 24],
        [44, 8],
        [51, 12],
      ]),
    ),
    [53, 62 + 44, 0],
  );
  // a later fragment has no UDP header
  assert.deepEqual(run(ipv6Ext([[44, 8, 185]])), [0, 0, 0]);
  // four extension headers are walked, a fifth is too many
  const four: [number, number][] = [
    [0, 8],
    [60, 8],
    [43, 8],
    [60, 8],
  ];
  assert.deepEqual(run(ipv6Ext(four)), [53, 62 + 32, 0]);
  assert.deepEqual(run(ipv6Ext([...four, [60, 8]])), [0, 0, 0]);
  // truncated inside an extension header
  assert.deepEqual(
    run(
      ipv6Ext([
        [0, 8],
        [60, 16],
      ]).subarray(0, 70),
    ),
    [0, 0, 0],
  );
});
