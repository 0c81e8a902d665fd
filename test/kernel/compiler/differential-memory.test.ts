// Differential tests of memory code (issue 12): programs run in the kernel must agree with a
// reference model written from the formats, not from the compiler:
// - unions: the IP header (`IpHeader = Ipv4Header | Ipv6Header`) read after every form of
//   narrowing (if/else, switch, ternary, `!==`, destructuring), on random and truncated frames;
// - struct copies: byte arrays and nested structs copied between random layouts (fields at
//   every alignment), into a struct local and into a map value in place, compared with memcpy.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { array, struct, u8, u16, u32, u64, type Type } from "../../../src/types/index.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";
import { frame } from "../../unit/compiler/packets.js";

function load(body: string): Collection {
  const path = virtualPath("diff-mem");
  const src = HEADER + body;
  try {
    return Collection.load(compileProbe(path, { sources: new Map([[path, src]]) }).elf);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${src}`, { cause: e });
  }
}

const key = (i: number) => u32.encode(i) as never;

// ---- unions: the IP header ----

const UNION_PROBE = `
const out = map("out", new ArrayMap(u64, { maxEntries: 12 }));
const put = (i: number, v: number | bigint) => out.set(i, toBigInt(v));
export const p = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  if (!ip) return XdpAction.Pass;
  put(0, ip.version);
  if (ip.version === 4) put(1, ip.protocol);
  else put(1, ip.protocol + 1000);
  if (ip.version === 6) {
    put(2, ip.saddr.hi);
    put(3, ip.daddr.lo);
  } else {
    const { saddr, daddr } = ip;
    put(2, saddr);
    put(3, daddr);
  }
  switch (ip.version) {
    case 4:
      put(4, ip.ttl);
      break;
    case 6:
      put(4, ip.hopLimit + 256);
      break;
  }
  put(5, ip.version === 4 ? ip.totalLength : ip.payloadLength);
  if (ip.version !== 6) put(6, ip.headerLength * 1000 + ip.tos);
  const t = ctx.transport();
  if (!t) return XdpAction.Drop;
  put(7, t.source() * 65536 + t.dest());
  if (t.protocol === "tcp") {
    put(8, toBigInt(t.seq) * 4294967296n + toBigInt(t.ackSeq));
    put(9, t.flags * 65536 + t.window);
  } else put(8, t.length);
  return XdpAction.Tx;
});
`;

interface FrameCase {
  ip: 4 | 6;
  proto: "tcp" | "udp";
  src: number[];
  dst: number[];
  sport: number;
  dport: number;
  ttl: number;
  tos: number;
  ipOptionWords: number;
  tcpOptionWords: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  payload: number;
  cut: number;
}

/** What the probe must store, from the header formats (RFC 791 / 8200 / 793 / 768). */
function reference(f: Uint8Array): { ret: number; out: Map<number, bigint> } {
  const out = new Map<number, bigint>();
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const be = (o: number, n: number) => {
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(f[o + i]!);
    return v;
  };
  if (f.length < 14) return { ret: 2, out };
  const et = dv.getUint16(12);
  let version: number;
  let proto: number;
  let l4: number;
  if (et === 0x0800 && f.length >= 34 && f[14]! >> 4 === 4) {
    version = 4;
    proto = f[23]!;
    out.set(1, BigInt(proto));
    out.set(2, be(26, 4));
    out.set(3, be(30, 4));
    out.set(4, BigInt(f[22]!));
    out.set(5, be(16, 2));
    const ihl = (f[14]! & 15) * 4;
    out.set(6, BigInt(ihl * 1000 + f[15]!));
    l4 = ihl < 20 ? -1 : 14 + ihl;
  } else if (et === 0x86dd && f.length >= 54 && f[14]! >> 4 === 6) {
    version = 6;
    proto = f[20]!;
    out.set(1, BigInt(proto + 1000));
    out.set(2, be(22, 8));
    out.set(3, be(46, 8));
    out.set(4, BigInt(f[21]! + 256));
    out.set(5, be(18, 2));
    l4 = 54;
  } else return { ret: 2, out };
  out.set(0, BigInt(version));
  const need = proto === 6 ? 20 : proto === 17 ? 8 : Infinity;
  if (l4 < 0 || l4 + need > f.length) return { ret: 1, out };
  out.set(7, be(l4, 2) * 65536n + be(l4 + 2, 2));
  if (proto === 6) {
    out.set(8, be(l4 + 4, 4) * 4294967296n + be(l4 + 8, 4));
    out.set(9, BigInt(f[l4 + 13]!) * 65536n + be(l4 + 14, 2));
  } else out.set(8, be(l4 + 4, 2));
  return { ret: 3, out };
}

const frameArb: fc.Arbitrary<FrameCase> = fc.record({
  ip: fc.constantFrom(4 as const, 6 as const),
  proto: fc.constantFrom("tcp" as const, "udp" as const),
  src: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }),
  dst: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }),
  sport: fc.integer({ min: 0, max: 65535 }),
  dport: fc.integer({ min: 0, max: 65535 }),
  ttl: fc.integer({ min: 0, max: 255 }),
  tos: fc.integer({ min: 0, max: 255 }),
  ipOptionWords: fc.integer({ min: 0, max: 10 }),
  tcpOptionWords: fc.integer({ min: 0, max: 10 }),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  ack: fc.integer({ min: 0, max: 0xffffffff }),
  flags: fc.integer({ min: 0, max: 255 }),
  window: fc.integer({ min: 0, max: 65535 }),
  payload: fc.integer({ min: 0, max: 40 }),
  cut: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 })),
});

function build(c: FrameCase): Uint8Array {
  const f = frame({
    ip: c.ip,
    proto: c.proto,
    src: c.ip === 4 ? c.src.slice(0, 4) : c.src,
    dst: c.ip === 4 ? c.dst.slice(0, 4) : c.dst,
    sport: c.sport,
    dport: c.dport,
    ipOptionWords: c.ip === 4 ? c.ipOptionWords : 0,
    tcpOptionWords: c.tcpOptionWords,
    payload: new Uint8Array(c.payload).fill(0x61),
  });
  const dv = new DataView(f.buffer);
  if (c.ip === 4) {
    f[15] = c.tos;
    f[22] = c.ttl;
  } else f[21] = c.ttl;
  const l4 = 14 + (c.ip === 4 ? 20 + 4 * c.ipOptionWords : 40);
  if (c.proto === "tcp") {
    dv.setUint32(l4 + 4, c.seq);
    dv.setUint32(l4 + 8, c.ack);
    f[l4 + 13] = c.flags;
    dv.setUint16(l4 + 14, c.window);
  }
  // a truncated frame: every layer that no longer fits must read as absent
  return c.cut === 0 ? f : f.subarray(0, Math.min(f.length, c.cut));
}

test("differential: union IP/transport headers read after every narrowing form match the header formats", (t) => {
  if (!needsKernel(t)) return;
  using coll = load(UNION_PROBE);
  const prog = coll.programs.get("p")!;
  const out = coll.maps.get("out")!;
  fc.assert(
    fc.property(frameArb, (c) => {
      for (let i = 0; i < 12; i++) out.set(key(i), u64.encode(0n) as never);
      const f = build(c);
      const data = f.length >= 14 ? f : new Uint8Array([...f, ...new Uint8Array(14 - f.length)]);
      const want = reference(data);
      const r = prog.testRun({ data });
      assert.equal(r.retval, want.ret, JSON.stringify(c));
      for (let i = 0; i < 12; i++)
        assert.equal(
          u64.decode(out.get(key(i)) as Uint8Array),
          want.out.get(i) ?? 0n,
          `slot ${i} for ${JSON.stringify(c)}`,
        );
    }),
    { numRuns: Number(process.env.TSBPF_DIFF_RUNS ?? 300) },
  );
});

// ---- struct copies ----

const SCALARS: [string, Type][] = [
  ["u8", u8],
  ["u16", u16],
  ["u32", u32],
  ["u64", u64],
];

interface Layout {
  /** byte-array lengths, one per copied field a0… */
  arrays: number[];
  /** scalars before each source field, and before each destination field */
  srcPad: number[];
  dstPad: number[];
  /** destination order of the arrays */
  order: number[];
  /** nested struct: its scalar kinds (copied whole) */
  inner: number[];
}

const layoutArb: fc.Arbitrary<Layout> = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc.record({
    arrays: fc.array(fc.integer({ min: 1, max: 24 }), { minLength: n, maxLength: n }),
    srcPad: fc.array(fc.integer({ min: -1, max: 3 }), { minLength: n + 1, maxLength: n + 1 }),
    dstPad: fc.array(fc.integer({ min: -1, max: 3 }), { minLength: n + 1, maxLength: n + 1 }),
    order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    inner: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }),
  }),
);

function structs(l: Layout) {
  const inner = Object.fromEntries(l.inner.map((k, i) => [`i${i}`, SCALARS[k]![1]]));
  const src: Record<string, Type> = {};
  const srcText: string[] = [];
  l.arrays.forEach((n, k) => {
    const p = l.srcPad[k]!;
    if (p >= 0) {
      src[`sp${k}`] = SCALARS[p]![1];
      srcText.push(`sp${k}: ${SCALARS[p]![0]}`);
    }
    src[`a${k}`] = array(u8, n);
    srcText.push(`a${k}: array(u8, ${n})`);
  });
  src.inner = struct("Inner", inner);
  srcText.push("inner: Inner");
  const dst: Record<string, Type> = {};
  const dstText: string[] = [];
  const scalars: string[] = [];
  l.order.forEach((k, j) => {
    const p = l.dstPad[j]!;
    if (p >= 0) {
      dst[`dp${j}`] = SCALARS[p]![1];
      dstText.push(`dp${j}: ${SCALARS[p]![0]}`);
      scalars.push(`dp${j}`);
    }
    dst[`b${k}`] = array(u8, l.arrays[k]!);
    dstText.push(`b${k}: array(u8, ${l.arrays[k]})`);
  });
  const last = l.dstPad[l.arrays.length]!;
  if (last >= 0) {
    dst.tail = SCALARS[last]![1];
    dstText.push(`tail: ${SCALARS[last]![0]}`);
    scalars.push("tail");
  }
  dst.inner = struct("Inner", inner);
  dstText.push("inner: Inner");
  const innerText = l.inner.map((k, i) => `i${i}: ${SCALARS[k]![0]}`).join(", ");
  return {
    Src: struct("Src", src),
    Dst: struct("Dst", dst),
    scalars,
    text: `const Inner = struct("Inner", { ${innerText} });\nconst Src = struct("Src", { ${srcText.join(", ")} });\nconst Dst = struct("Dst", { ${dstText.join(", ")} });\ntype Dst = Infer<typeof Dst>;\n`,
  };
}

test("differential: byte arrays and nested structs copied between random layouts equal memcpy", (t) => {
  if (!needsKernel(t)) return;
  fc.assert(
    fc.property(
      layoutArb,
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 512, maxLength: 512 }),
      (l, bytes) => {
        const { Src, Dst, scalars, text } = structs(l);
        const init = (f: { name: string; type: Type }) =>
          f.type.kind === "array"
            ? `${f.name}: new Uint8Array(${f.type.size})`
            : f.type.kind === "struct"
              ? `${f.name}: { ${l.inner.map((k, i) => `i${i}: ${SCALARS[k]![0] === "u64" ? "0n" : "0"}`).join(", ")} }`
              : `${f.name}: ${f.type.size === 8 ? `${scalars.indexOf(f.name) + 1}n` : scalars.indexOf(f.name) + 1}`;
        const copies = [...l.arrays.keys()].map((k) => `b${k} = s.a${k}`);
        copies.push("inner = s.inner");
        const body =
          text +
          `const src = map("src", new ArrayMap(Src, { maxEntries: 1 }));\n` +
          `const dst = map("dst", new ArrayMap(Dst, { maxEntries: 2 }));\n` +
          `export const p = xdp(() => {\n  const s = src.get(0);\n  if (s === null) return XdpAction.Aborted;\n` +
          `  const d: Dst = { ${Dst.fields.map(init).join(", ")} };\n` +
          copies.map((c) => `  d.${c};\n`).join("") +
          `  dst.set(0, d);\n  const v = dst.get(1);\n  if (v === null) return XdpAction.Aborted;\n` +
          copies.map((c) => `  v.${c};\n`).join("") +
          `  return XdpAction.Pass;\n});\n`;
        using coll = load(body);
        const srcBytes = Uint8Array.from(bytes.slice(0, Src.size));
        coll.maps.get("src")!.set(key(0), srcBytes as never);
        assert.equal(coll.programs.get("p")!.testRun({ data: new Uint8Array(64) }).retval, 2);
        // the reference: memcpy of each field's bytes; scalars of d are their constants
        const want0 = new Uint8Array(Dst.size);
        const want1 = new Uint8Array(Dst.size);
        const dv = new DataView(want0.buffer);
        for (const f of Dst.fields) {
          const s = Src.fields.find(
            (x) => x.name === (f.name === "inner" ? "inner" : f.name.replace(/^b/, "a")),
          );
          if (f.type.kind === "array" || f.type.kind === "struct") {
            const from = srcBytes.subarray(s!.offset, s!.offset + f.type.size);
            want0.set(from, f.offset);
            want1.set(from, f.offset);
          } else {
            const v = scalars.indexOf(f.name) + 1;
            if (f.type.size === 1) dv.setUint8(f.offset, v);
            else if (f.type.size === 2) dv.setUint16(f.offset, v, true);
            else if (f.type.size === 4) dv.setUint32(f.offset, v, true);
            else dv.setBigUint64(f.offset, BigInt(v), true);
          }
        }
        const got = (i: number) => [...(coll.maps.get("dst")!.get(key(i)) as Uint8Array)];
        assert.deepEqual(got(0), [...want0], `struct local copy:\n${body}`);
        assert.deepEqual(got(1), [...want1], `in-place map value copy:\n${body}`);
      },
    ),
    { numRuns: Number(process.env.TSBPF_DIFF_RUNS ?? 60) },
  );
});
