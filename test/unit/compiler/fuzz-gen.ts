// The random probe programs of the compiler fuzz tests (unit: never an internal error; kernel:
// what compiles also loads), shared so both run the same generator.
import fc from "fast-check";
import { HEADER } from "./support.js";

const ops = [
  "+",
  "-",
  "*",
  "/",
  "%",
  "&",
  "|",
  "^",
  "<<",
  ">>",
  ">>>",
  "<",
  "<=",
  ">",
  ">=",
  "===",
  "!==",
  "&&",
  "||",
  "??",
  "**",
  ",",
];
const leaves = [
  "0",
  "1",
  "7",
  "-3",
  "255",
  "0x7fffffff",
  "1.5",
  "a",
  "b",
  "ctx.ingressIfindex",
  "prandom()",
  "smpProcessorId()",
  '"GET "',
  "null",
  "true",
  "XdpAction.Drop",
  "undefined",
  "m.get(a)",
  "ctx.len()",
  "(bs ? bs.at(a) : 0)",
  "(bs ? bs.at(3) : 9)",
  "toNumber(m.get(a) ?? 0n)",
  "toNumber(m.get(a) ?? m.get(b) ?? 2n)",
  "(bs?.at(a) ?? 4)",
  "(ctx.data()?.read(2)?.at(1) ?? a)",
  "(m.get(a) === undefined ? 1 : 0)",
];

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...leaves),
    fc.tuple(tie("e"), fc.constantFrom(...ops), tie("e")).map(([x, o, y]) => `(${x} ${o} ${y})`),
    fc.tuple(fc.constantFrom("!", "-", "~", "+", "typeof "), tie("e")).map(([o, x]) => `${o}${x}`),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([c, x, y]) => `(${c} ? ${x} : ${y})`),
  ),
})).e;

export const stmt: fc.Arbitrary<string> = fc.letrec<{ s: string; block: string }>((tie) => ({
  s: fc.oneof(
    { depthSize: "small" },
    expr.map((e) => `a = ${e};`),
    expr.map((e) => `b += ${e};`),
    expr.map((e) => `if (${e}) return XdpAction.Drop;`),
    fc.tuple(expr, tie("block"), tie("block")).map(([c, x, y]) => `if (${c}) ${x} else ${y}`),
    fc
      .tuple(fc.integer({ min: 0, max: 20 }), tie("block"))
      .map(([n, body]) => `for (let i = 0; i < ${n}; i++) ${body}`),
    fc
      .tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom("+=", "^=", "="), expr)
      .map(([n, op, e]) => `if (bs) for (let i = 0; i < ${n}; i++) { a ${op} bs.at(i + ${e}); }`),
    fc
      .tuple(fc.integer({ min: -2, max: 20 }), fc.constantFrom("<", "<=", ">", "!=="), tie("block"))
      .map(([n, op, body]) => `for (let j = ${n}; j ${op} 6; j += 2) ${body}`),
    expr.map((e) => `while (${e}) { a++; }`),
    expr.map((e) => `switch (${e}) { case 1: a = 2; break; case 2: b = 1; default: a = 0; }`),
    fc.constantFrom(
      "break;",
      "continue;",
      "a++;",
      "--b;",
      "m.set(a, 1n);",
      "m.delete(b);",
      "try { a = 1; } catch { }",
      "class K {}",
      "const o = { x: a, y: b };",
      'tracePrintk("v %d", a);',
      'atomicAdd(m.get(1)!, "x" as never, 1);',
      "{ let c = m.get(a); if (c === null) { m.set(a, 1n); c = m.get(a); } if (c !== null) b = toNumber(c); c = null; }",
      "{ let c = m.get(a); const c0 = c; c = m.get(b); if (c0 && c) a = toNumber(c0 + c); }",
      "{ let c = m.get(a); c = 3; }",
      "{ const ip = ctx.ip(); if (ip && ip.version === 4) { const { saddr, ttl: t2 } = ip; a = saddr + t2; } }",
      "{ const ip = ctx.ip(); if (ip) { let { version } = ip; version++; b = version; } }",
      "{ const [q] = [a]; b = q; }",
      "a = g(a, b);",
      "b += g(g(a, 1), b);",
      "m.set(a, [1, a] as never);",
      "{ const z = [a, b, ...[1]]; }",
      "{ const { ...r } = { x: a }; }",
      "{ const o = { a, b }; const { a: a2 = 1 } = o; b = a2; }",
    ),
  ),
  block: fc.array(tie("s"), { maxLength: 3 }).map((xs) => `{ ${xs.join(" ")} }`),
})).s;

/** The declarations every generated program may use: the map `m` and the subprogram `g`. */
export const PRELUDE = `${HEADER}const m = map("m", new HashMap(u32, u64, { maxEntries: 8 }));\n/** @noinline */\nfunction g(x: number, y: number): number { if (x > y) return x - y; m.set(x, 1n); return y; }\n`;

/** One xdp program named `name` around generated statements. */
export const programText = (name: string, body: readonly string[]): string =>
  `export const ${name} = xdp((ctx: XdpContext) => {\n  let a = 0;\n  let b = 1;\n  const d0 = ctx.data();\n  const bs = d0 && d0.read(8);\n  ${body.join("\n  ")}\n  return XdpAction.Pass;\n});\n`;

/** The statements of one program. */
export const programBody = fc.array(stmt, { maxLength: 6 });

export const program = programBody.map((body) => PRELUDE + programText("p", body));

// ---- packet writes (issue 12) ----
// Snippets that write packets, each with a reference model of its effect on a frame (parsing
// as the compiler's views do). A random sequence of them, run by the kernel, must turn every
// frame into what the models, applied in order, turn it into (test/kernel/compiler/
// packet-write-fuzz.test.ts). Separate from `program`, whose samples the digest script fixes.

/** Where the views of a frame start, as tsbpf parses it; undefined when a view is null. */
export function layout(f: Uint8Array): {
  eth?: number;
  ip4?: number;
  ip6?: number;
  udp?: number;
  icmp?: number;
} {
  const out: ReturnType<typeof layout> = {};
  if (f.length < 14) return out;
  out.eth = 0;
  const et = (f[12]! << 8) | f[13]!;
  if (et === 0x0800 && f.length >= 34 && f[14]! >> 4 === 4) {
    out.ip4 = 14;
    const ihl = (f[14]! & 15) * 4;
    if (ihl >= 20) {
      if (f[23] === 17 && f.length >= 14 + ihl + 8) out.udp = 14 + ihl;
      if (f[23] === 1 && f.length >= 14 + ihl + 8) out.icmp = 14 + ihl;
    }
  } else if (et === 0x86dd && f.length >= 54 && f[14]! >> 4 === 6) {
    out.ip6 = 14;
    if (f[20] === 17 && f.length >= 62) out.udp = 54;
    if (f[20] === 58 && f.length >= 62) out.icmp = 54;
  }
  return out;
}

const fold16 = (s: number) => {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
};
const get16 = (f: Uint8Array, o: number) => (f[o]! << 8) | f[o + 1]!;
const set16 = (f: Uint8Array, o: number, v: number) => {
  f[o] = (v >> 8) & 0xff;
  f[o + 1] = v & 0xff;
};

export interface WriteSnippet {
  code: string;
  model: (f: Uint8Array) => void;
}

export const WRITE_SNIPPETS: readonly WriteSnippet[] = [
  {
    code: "const ip = ctx.ip(); if (ip && ip.version === 4) ip.ttl--;",
    model: (f) => {
      const l = layout(f);
      if (l.ip4 !== undefined) f[l.ip4 + 8] = (f[l.ip4 + 8]! - 1) & 0xff;
    },
  },
  {
    code: "const e = ctx.eth(); if (e) e.swapMacs();",
    model: (f) => {
      if (layout(f).eth === undefined) return;
      const d = f.slice(0, 6);
      f.copyWithin(0, 6, 12);
      f.set(d, 6);
    },
  },
  {
    code: 'const t = ctx.transport(); if (t && t.protocol === "udp") t.setDest(t.dest() + 1);',
    model: (f) => {
      const u = layout(f).udp;
      if (u !== undefined) set16(f, u + 2, (get16(f, u + 2) + 1) & 0xffff);
    },
  },
  {
    code: "const ip = ctx.ip(); if (ip && ip.version === 4) ip.updateChecksum();",
    model: (f) => {
      const i = layout(f).ip4;
      if (i === undefined) return;
      const ihl = (f[i]! & 15) * 4;
      let s = 0;
      for (let o = 0; o < Math.min(ihl, 60); o += 2) {
        if (o === 10) continue;
        if (o >= 20 && i + o + 4 > f.length) break; // option words past the packet end
        s += get16(f, i + o);
      }
      set16(f, i + 10, ~fold16(s) & 0xffff);
    },
  },
  {
    code: "const ip = ctx.ip(); if (ip && ip.version === 6) ip.hopLimit = 9;",
    model: (f) => {
      const i = layout(f).ip6;
      if (i !== undefined) f[i + 7] = 9;
    },
  },
  {
    code: "const i = ctx.icmp(); if (i) { i.checksum = csumReplace(i.checksum, (i.type << 8) | i.code, i.code); i.type = 0; }",
    model: (f) => {
      const c = layout(f).icmp;
      if (c === undefined) return;
      const from = get16(f, c);
      const to = f[c + 1]!;
      const check = get16(f, c + 2);
      set16(f, c + 2, ~fold16((~check & 0xffff) + (~from & 0xffff) + to) & 0xffff);
      f[c] = 0;
    },
  },
  {
    code: "const ip = ctx.ip(); if (ip && ip.version === 4) { const s = ip.saddr; ip.saddr = ip.daddr; ip.daddr = s; }",
    model: (f) => {
      const i = layout(f).ip4;
      if (i === undefined) return;
      const s = f.slice(i + 12, i + 16);
      f.copyWithin(i + 12, i + 16, i + 20);
      f.set(s, i + 16);
    },
  },
  {
    code: "const e = ctx.eth(); if (e) e.dst = 0x020304050607n;",
    model: (f) => {
      if (layout(f).eth !== undefined) f.set([2, 3, 4, 5, 6, 7], 0);
    },
  },
  {
    code: "const ip = ctx.ip(); if (ip && ip.version === 6) { ip.daddr = ip.saddr; }",
    model: (f) => {
      const i = layout(f).ip6;
      if (i !== undefined) f.copyWithin(i + 24, i + 8, i + 24);
    },
  },
];

/** A random sequence of write snippets (indexes into WRITE_SNIPPETS). */
export const writeSequence = fc.array(fc.nat({ max: WRITE_SNIPPETS.length - 1 }), {
  minLength: 1,
  maxLength: 6,
});

export const writeProgramText = (seq: readonly number[]): string =>
  `import { program, xdp, XdpAction, csumReplace } from "tsbpf/probe";\nprogram({ license: "GPL" });\nexport const w = xdp((ctx) => {\n${seq.map((i) => `  {\n    ${WRITE_SNIPPETS[i]!.code}\n  }`).join("\n")}\n  return XdpAction.Pass;\n});\n`;

// ---- the scalar language of issue 12, in programs of their own ----
// (kept apart from `program` so the compiled-digest sample of `program` stays the same)

const scalarLeaves = [
  "Kind.Mid",
  "Kind.Big",
  "Math.min(a, b)",
  "Math.max(a, 3, b)",
  "Math.min(ctx.len(), Kind.Mid)",
  "Number(a > b)",
  "+(a === 1)",
  "Number(BigInt(a) * 3n)",
  "Number(m.get(a) ?? 0n)",
  "(hm.get(0)?.slots[a] ?? 5)",
  "(hm.get(0)?.slots[a & 15] ?? 0)",
  "(a & 0xffff_ffff_ffff_fff0)",
  "(0xffffffffffffffff ^ b)",
];

const scalarExpr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...scalarLeaves),
    expr,
    fc
      .tuple(tie("e"), fc.constantFrom("+", "-", "&", "<", "===", ">>"), tie("e"))
      .map(([x, o, y]) => `(${x} ${o} ${y})`),
  ),
})).e;

const scalarStmt: fc.Arbitrary<string> = fc.oneof(
  stmt,
  scalarExpr.map((e) => `a = ${e};`),
  scalarExpr.map((e) => `m.add(${e}, 1n);`),
  scalarExpr.map((e) => `{ const h = hm.get(0); if (h) h.slots[${e}]++; }`),
  scalarExpr.map((e) => `{ const h = hm.get(0); if (h && ${e} < 16) h.slots[a] += 2; }`),
  scalarExpr.map(
    (e) => `{ const r: Rec = { n: 1, w: [0, 0, 0] }; r.w[${e}] = a; b = r.w[a & 3]; }`,
  ),
  scalarExpr.map(
    (e) =>
      `switch (${e}) { case Kind.Low: return XdpAction.Drop; case Kind.Mid: return XdpAction.Pass; default: return XdpAction.Drop; }`,
  ),
  scalarExpr.map((e) => `{ let k: Kind = Kind.Low; if (${e}) k = Kind.Big; b = k; }`),
  // Atomics (fetch, exchange, compare-exchange) on map value fields and a global
  scalarExpr.map(
    (e) => `{ const c = am.get(0); if (c) b = toNumber(Atomics.add(c, "n", toBigInt(${e}))); }`,
  ),
  scalarExpr.map(
    (e) => `{ const c = am.get(0); if (c) a = Atomics.compareExchange(c, "w", ${e}, a); }`,
  ),
  scalarExpr.map(
    (e) =>
      `{ const c = am.get(0); if (c) { Atomics.or(c, "s", ${e}); a = Atomics.exchange(c, "s", b); } }`,
  ),
  scalarExpr.map((e) => `b = toNumber(Atomics.xor(ag, "value", toBigInt(${e})));`),
  fc.constantFrom(
    'Atomics.sub(ag, "value", 1n);',
    '{ const h = hm.get(0); if (h) Atomics.add(h, "pad", 1); }',
  ),
);

export const SCALAR_PRELUDE = `${PRELUDE}import { Atomics, global } from "tsbpf/probe";\nconst am = map("am", new ArrayMap(struct("AC", { n: u64, w: u32, s: i32 }), { maxEntries: 1 }));\nconst ag = global("ag", u64);\nenum Kind { Low, Mid = 6, Big = Mid * 0x10000000000 }\nconst Slots = struct("Slots", { pad: u8, slots: array(u32, 16) });\nconst hm = map("hm", new ArrayMap(Slots, { maxEntries: 1 }));\nconst Rec = struct("Rec", { n: u8, w: array(u16, 3) });\ntype Rec = Infer<typeof Rec>;\n`;

export const scalarProgramBody = fc.array(scalarStmt, { maxLength: 6 });

export const scalarProgram = scalarProgramBody.map(
  (body) => SCALAR_PRELUDE + programText("p", body),
);

// ---- long loops that become bpf_loop calls (lower/bpf-loop.ts) ----
// Loops of 1,025 to 65,536 iterations whose bodies branch, break, continue, return, call the
// subprogram `g`, use the map and nest loops (short ones, and long ones: a callback inside a
// callback), reading and writing the program's variables. Separate from `program`, whose
// samples the digest script fixes.

const loopLeaf = fc.constantFrom(
  "a",
  "b",
  "i",
  "7",
  "(a | 0x55)",
  "toNumber(m.get(a & 7) ?? 0n)",
  "prandom()",
  "(i & 15)",
  "(b >> 3)",
);
const loopExpr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "xsmall", maxDepth: 2, withCrossShrink: true },
    loopLeaf,
    fc
      .tuple(tie("e"), fc.constantFrom("+", "-", "^", "&", "|", "*"), tie("e"))
      .map(([x, o, y]) => `(${x} ${o} ${y})`),
    fc
      .tuple(tie("e"), fc.constantFrom("<", "===", "!=="), tie("e"), tie("e"), tie("e"))
      .map(([x, o, y, p, q]) => `(${x} ${o} ${y} ? ${p} : ${q})`),
  ),
})).e;

/** A condition: a comparison of two expressions. */
const loopCond: fc.Arbitrary<string> = fc
  .tuple(loopExpr, fc.constantFrom("<", "===", "!==", "<="), loopExpr)
  .map(([x, o, y]) => `${x} ${o} ${y}`);

const loopStmt: fc.Arbitrary<string> = fc.letrec<{ s: string; block: string }>((tie) => ({
  s: fc.oneof(
    { depthSize: "xsmall", maxDepth: 2 },
    loopExpr.map((e) => `a = ${e};`),
    loopExpr.map((e) => `b += ${e};`),
    loopCond.map((e) => `if (${e}) break;`),
    loopCond.map((e) => `if (${e}) continue;`),
    loopCond.map((e) => `if (${e}) return XdpAction.Drop;`),
    fc.tuple(loopCond, tie("block"), tie("block")).map(([c, x, y]) => `if (${c}) ${x} else ${y}`),
    loopExpr.map((e) => `m.set(${e} & 7, 1n);`),
    loopExpr.map((e) => `b = g(${e}, i);`),
    fc
      .tuple(fc.integer({ min: 2, max: 40 }), tie("block"))
      .map(([n, body]) => `for (let k = 0; k < ${n}; k++) ${body}`),
    fc
      .tuple(fc.integer({ min: 1025, max: 4000 }), loopCond)
      // a callback inside the callback; it stops early so that runs stay short
      .map(
        ([n, e]) => `for (let q = 0; q < ${n}; q++) { if (${e}) b ^= q; if (q > (a & 63)) break; }`,
      ),
  ),
  block: fc.array(tie("s"), { minLength: 1, maxLength: 2 }).map((xs) => `{ ${xs.join(" ")} }`),
})).s;

/** A program around at least one long loop with a branching body. */
export const bpfLoopProgramBody: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.array(loopStmt, { maxLength: 2 }),
    fc.integer({ min: 1025, max: 65536 }),
    fc.array(loopStmt, { minLength: 1, maxLength: 3 }),
    fc.array(loopStmt, { maxLength: 2 }),
  )
  .map(([before, n, body, after]) => [
    // start from values the verifier does not know, as a probe's inputs are: with constants
    // it would follow every call of the callback with exact values instead of merging them
    "a = prandom(); b = prandom();",
    ...before.map((s) => `for (let i = 0; i < 3; i++) { ${s} }`),
    `for (let i = 0; i < ${n}; i++) { if (i === 3) b++; ${body.join(" ")} }`,
    ...after.map((s) => `for (let i = 0; i < 3; i++) { ${s} }`),
  ]);
