// Property: any combination of packet parsing, narrowing, field reads, payload matching and
// map updates compiles to code the verifier accepts, and runs on arbitrary frames.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { HEADER, virtualPath } from "../../unit/compiler/support.js";
import { frame } from "../../unit/compiler/packets.js";

const SNIPPETS = [
  "const ip = ctx.ip();\nif (ip && ip.version === 4 && ip.ttl === 1) return XdpAction.Drop;",
  "const ip = ctx.ip();\nif (ip) { if (ip.version === 6) { s.set(1, ip.saddr.hi); } else { s.set(2, toBigInt(ip.saddr)); } }",
  'const t = ctx.transport();\nif (t && t.protocol === "udp" && t.dest() === 53) return XdpAction.Drop;',
  'const t = ctx.transport();\nif (t && t.protocol === "tcp" && (t.flags & 2) !== 0) s.set(3, toBigInt(t.window));',
  'const d = ctx.data();\nif (d) { const h = d.read(4); if (h && h.startsWith("GET ")) s.set(4, toBigInt(d.offset())); }',
  'const d = ctx.data();\nif (d && d.len() > 10) { const h = d.read(8); if (h && h.equals("HTTP/1.1")) return XdpAction.Drop; }',
  "const e = ctx.eth();\nif (e && e.protocol === 0x0806) return XdpAction.Drop;",
  "if (ctx.len() < 60) s.set(5, toBigInt(ctx.len()));",
  "for (let i = 0; i < 3; i++) { const v = s.get(i); if (v !== null) s.set(i, v + 1n); }",
];

const body: fc.Arbitrary<string> = fc.letrec<{ b: string }>((tie) => ({
  b: fc
    .array(
      fc.oneof(
        { depthSize: "small" },
        fc.constantFrom(...SNIPPETS).map((x) => `{\n${x}\n}`),
        fc
          .tuple(
            fc.constantFrom("prandom() > 100", "ctx.ingressIfindex === 1", "ctx.len() > 40"),
            tie("b"),
          )
          .map(([c, b]) => `if (${c}) {\n${b}\n}`),
        tie("b").map((b) => `helperFn();\n${b}`),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((xs) => xs.join("\n")),
})).b;

const frames = [
  frame({ ip: 4, payload: "GET / HTTP/1.1\r\n" }),
  frame({ ip: 6, proto: "udp", dport: 53, payload: "x" }),
  frame({ ip: 4, tcpOptionWords: 10, payload: "HTTP/1.1 200 OK" }),
  frame({ ip: 4, ipOptionWords: 10, proto: "udp" }),
  new Uint8Array(14),
  frame({ ip: 6, payload: "" }).subarray(0, 60),
];

let lastFailure: string | undefined;

test("packet programs of random shape always pass the verifier and run", (t) => {
  if (!needsKernel(t)) return;
  fc.assert(
    fc.property(body, (b) => {
      const src = `${HEADER}const s = map("s", new HashMap(u32, u64, { maxEntries: 8 }));\nfunction helperFn(): number { return prandom() & 1; }\nexport const p = xdp((ctx: XdpContext) => {\n${b}\nreturn XdpAction.Pass;\n});\n`;
      const path = virtualPath("pktfuzz");
      let coll: Collection;
      try {
        coll = Collection.load(compileProbe(path, { sources: new Map([[path, src]]) }).elf);
      } catch (e) {
        lastFailure = `${(e as Error).message.slice(0, 2000)}\n${src}`;
        throw new Error(lastFailure, { cause: e });
      }
      using _c = coll;
      for (const f of frames) {
        const r = coll.programs.get("p")!.testRun({ data: f }).retval;
        assert.ok(r === 1 || r === 2, `retval ${r}`);
      }
    }),
    {
      numRuns: Number(process.env.TSBPF_PKT_FUZZ_RUNS ?? 30),
      ...(process.env.TSBPF_PKT_FUZZ_SEED && {
        seed: Number(process.env.TSBPF_PKT_FUZZ_SEED),
        path: process.env.TSBPF_PKT_FUZZ_PATH,
        endOnFailure: true,
      }),
      reporter: (r) => {
        if (r.failed)
          throw new Error(`${lastFailure ?? ""}\n(seed ${r.seed}, path ${r.counterexamplePath})`);
      },
    },
  );
});
