// Property: random sequences of packet writes (fuzz-gen.ts WRITE_SNIPPETS) compile, pass the
// verifier, and turn each crafted frame into exactly what their reference models produce.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { needsKernel } from "../../support/kernel.js";
import { Collection } from "../../../src/load/collection.js";
import { compileSource } from "../../unit/compiler/support.js";
import { WRITE_SNIPPETS, writeProgramText, writeSequence } from "../../unit/compiler/fuzz-gen.js";
import { icmpEcho, ipv4Frame, udp4 } from "../../support/frames.js";
import { frame } from "../../unit/compiler/packets.js";

function icmp6(): Uint8Array {
  const f = frame({ ip: 6, proto: "udp", payload: "abcd" });
  f[14 + 6] = 58;
  f[54] = 128;
  f[55] = 0;
  return f;
}

const FRAMES = [
  ipv4Frame({ proto: 17, l4: udp4(1000, 2000, new Uint8Array(6)) }),
  ipv4Frame({ proto: 17, l4: udp4(1000, 0xffff, new Uint8Array(6)), optionWords: 2 }),
  ipv4Frame({ proto: 1, l4: icmpEcho(7, 8, new Uint8Array(4)) }),
  ipv4Frame({ proto: 1, l4: icmpEcho(7, 8, new Uint8Array(4)), optionWords: 10 }),
  frame({ ip: 6, proto: "udp", dport: 53, payload: "xyz" }),
  icmp6(),
  frame({ ip: 4, proto: "tcp", payload: "GET /" }),
  new Uint8Array(14),
  new Uint8Array(40).fill(0x45),
];

let last = "";

test("random packet-write sequences do what their reference models do", (t) => {
  if (!needsKernel(t)) return;
  fc.assert(
    fc.property(writeSequence, (seq) => {
      const src = writeProgramText(seq);
      last = src;
      using coll = Collection.load(compileSource(src, { raw: true }).elf);
      const prog = coll.programs.get("w")!;
      for (const f of FRAMES) {
        const want = f.slice();
        for (const i of seq) WRITE_SNIPPETS[i]!.model(want);
        const r = prog.testRun({ data: f });
        assert.equal(r.retval, 2);
        assert.deepEqual([...r.dataOut!], [...want], `frame of ${f.length} bytes`);
      }
    }),
    {
      numRuns: Number(process.env.TSBPF_PKT_FUZZ_RUNS ?? 40),
      ...(process.env.TSBPF_PKT_FUZZ_SEED && { seed: Number(process.env.TSBPF_PKT_FUZZ_SEED) }),
      reporter: (r) => {
        if (r.failed)
          throw new Error(
            `${String(r.errorInstance)}\n${r.counterexample ? writeProgramText(r.counterexample[0]) : last}\n(seed ${r.seed})`,
          );
      },
    },
  );
});
