// Packet writes from TypeScript probes, run by the kernel on crafted frames (BPF_PROG_TEST_RUN)
// and compared byte for byte with a reference model written here; every checksum the probe
// fixes is validated by computing it over the bytes it produced. The reflector and the TC
// port rewriter are the examples of docs/probe-language.md, read from the document.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { Collection } from "../../../src/load/collection.js";
import { compileSource } from "../../unit/compiler/support.js";
import { checksumOk, icmpEcho, ipv4Frame, onesSum, pseudo4, udp4 } from "../../support/frames.js";
import { REFLECTOR, TC_PORT, VLAN_POP } from "./packet-write-probes.js";

/** Reference model of the reflector. */
function reflected(f: Uint8Array): Uint8Array {
  const o = f.slice();
  o.set(f.subarray(6, 12), 0);
  o.set(f.subarray(0, 6), 6);
  const ihl = (f[14]! & 0xf) * 4;
  o.set(f.subarray(14 + 16, 14 + 20), 14 + 12);
  o.set(f.subarray(14 + 12, 14 + 16), 14 + 16);
  o[14 + 8] = 64;
  o[14 + 10] = 0;
  o[14 + 11] = 0;
  const c = ~onesSum(o.subarray(14, 14 + ihl)) & 0xffff;
  o[14 + 10] = c >> 8;
  o[14 + 11] = c & 0xff;
  const icmp = o.subarray(14 + ihl);
  icmp[0] = 0;
  icmp[2] = 0;
  icmp[3] = 0;
  const ic = ~onesSum(icmp) & 0xffff;
  icmp[2] = ic >> 8;
  icmp[3] = ic & 0xff;
  return o;
}

test("an XDP ICMP echo reflector swaps MACs and addresses and fixes both checksums", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(REFLECTOR, { raw: true }).elf);
  const prog = coll.programs.get("reflect")!;
  const payload = new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz0123");
  for (const [optionWords, ttl, seq] of [
    [0, 64, 1],
    [0, 3, 0xfffe],
    [2, 17, 7],
    [10, 200, 0x0800],
  ] as const) {
    const f = ipv4Frame({
      proto: 1,
      l4: icmpEcho(0x4242, seq, payload),
      optionWords,
      ttl,
      src: [192, 168, 7, 9],
      dst: [10, 1, 2, 3],
    });
    const r = prog.testRun({ data: f });
    assert.equal(r.retval, 3, "XDP_TX");
    const out = r.dataOut!;
    assert.deepEqual([...out], [...reflected(f)], `options ${optionWords}`);
    const ihl = 20 + 4 * optionWords;
    assert.ok(checksumOk(out.subarray(14, 14 + ihl)), "IPv4 header checksum");
    assert.ok(checksumOk(out.subarray(14 + ihl)), "ICMP checksum");
    assert.equal(out[14 + ihl], 0, "echo reply");
  }
  // Not an echo request: untouched.
  const reply = ipv4Frame({ proto: 1, l4: icmpEcho(1, 1, payload, 0) });
  const r = prog.testRun({ data: reply });
  assert.equal(r.retval, 2);
  assert.deepEqual([...r.dataOut!], [...reply]);
});

test("a TC probe rewrites a UDP port, fixes the checksum with l4CsumReplace, sets mark and priority", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(TC_PORT, { raw: true }).elf);
  const prog = coll.programs.get("tc_port")!;
  const src = [10, 9, 8, 7];
  const dst = [10, 9, 8, 6];
  const payload = new TextEncoder().encode("hello, port 9999");
  const f = ipv4Frame({ proto: 17, l4: udp4(40000, 9999, payload, src, dst), src, dst });
  const r = prog.testRun({ data: f, ctx: new Uint8Array(192), ctxOutSize: 192 });
  assert.equal(r.retval, 0);
  const out = r.dataOut!;
  const expect = f.slice();
  const model = udp4(40000, 7777, payload, src, dst);
  expect.set(model, 34);
  assert.deepEqual([...out], [...expect]);
  const udp = out.subarray(34);
  assert.ok(
    checksumOk(udp, pseudo4(new Uint8Array(src), new Uint8Array(dst), 17, udp.length)),
    "UDP checksum",
  );
  const ctxOut = new DataView(r.ctxOut!.buffer, r.ctxOut!.byteOffset);
  assert.equal(ctxOut.getUint32(8, true), 0x2a, "mark");
  assert.equal(ctxOut.getUint32(32, true), 5, "priority");
  // Other ports: untouched.
  const g = ipv4Frame({ proto: 17, l4: udp4(40000, 53, payload, src, dst), src, dst });
  assert.deepEqual([...prog.testRun({ data: g }).dataOut!], [...g]);
});

const ADJUST = `
import { program, xdp, map, ArrayMap, XdpAction } from "tsbpf/probe";
import { struct, array, u8, u32, type Infer } from "tsbpf/types";
program({ license: "GPL" });
const Macs = struct("Macs", { dst: array(u8, 6), src: array(u8, 6) });
type Macs = Infer<typeof Macs>;
const seen = map("seen", new ArrayMap(u32, { maxEntries: 1 }));

/** Pops an 802.1Q tag (the docs' example), then reads the IP header behind it. */
export const pop_vlan = xdp((ctx) => {
${VLAN_POP}
  const ip = ctx.ip();
  if (ip && ip.version === 4) seen.set(0, ip.daddr);
  return XdpAction.Pass;
});
`;

test("after adjustHead the probe parses again and writes through the new views", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compileSource(ADJUST, { raw: true }).elf);
  const prog = coll.programs.get("pop_vlan")!;
  const l4 = udp4(1, 2, new Uint8Array(20));
  const tagged = ipv4Frame({ proto: 17, l4, vlans: [42], dst: [10, 0, 0, 77] });
  const plain = ipv4Frame({ proto: 17, l4, dst: [10, 0, 0, 77] });
  const r = prog.testRun({ data: tagged });
  assert.equal(r.retval, 2);
  assert.deepEqual([...r.dataOut!], [...plain]);
  const v = coll.maps.get("seen")!.get(new Uint8Array(4) as never) as Uint8Array;
  assert.equal(new DataView(v.buffer, v.byteOffset).getUint32(0, true), 0x0a00004d);
});

test("ip() then eth() then a write through the first IP view passes the verifier", (t) => {
  // Found by packet-write-fuzz: the second Ethernet bounds check compared the register that is
  // also the IP header's pointer; on its impossible failing branch the verifier marked that
  // register beyond the packet end and refused the store after it.
  if (!needsKernel(t)) return;
  const src = `
import { program, xdp, XdpAction } from "tsbpf/probe";
program({ license: "GPL" });
export const w = xdp((ctx) => {
  { const ip = ctx.ip(); if (ip && ip.version === 6) ip.hopLimit = 9; }
  { const e = ctx.eth(); if (e) e.dst = 0x020304050607n; }
  { const ip = ctx.ip(); if (ip && ip.version === 6) ip.hopLimit = 8; }
  return XdpAction.Pass;
});
`;
  using coll = Collection.load(compileSource(src, { raw: true }).elf);
  const f = ipv4Frame({ proto: 17, l4: udp4(1, 2, new Uint8Array(4)) });
  const out = coll.programs.get("w")!.testRun({ data: f }).dataOut!;
  assert.deepEqual([...out.subarray(0, 6)], [2, 3, 4, 5, 6, 7]);
});
