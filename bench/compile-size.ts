// Compile time against program size (issue 17): generated probes of N straight-line statements,
// of N if/else statements, and of nested two-iteration loops, each compiled in this warm process
// (the build server's case) several times; prints the median time and the time per statement,
// which stays flat when compile time is linear. A benchmark, not a test.
//
//   node dist/bench/compile-size.js [--sizes 250,500,1000,2000] [--runs 3]
import { parseArgs } from "node:util";
import { compileProbe } from "../src/compiler/index.js";

const HEAD = `import { program, map, xdp, HashMap, XdpAction, toBigInt, type XdpContext } from "tsbpf/probe";
import { u32, u64 } from "tsbpf/types";
program({ license: "GPL" });
const m = map("m", new HashMap(u32, u64, { maxEntries: 8 }));
`;
const prog = (body: string): string =>
  `${HEAD}export const p = xdp((ctx: XdpContext) => {\n  let a = ctx.len();\n${body}\n  return XdpAction.Pass;\n});\n`;

const SHAPES: Record<string, (n: number) => string> = {
  "straight-line": (n) =>
    prog(Array.from({ length: n }, (_, i) => `  m.set(${i % 8}, toBigInt(a + ${i}));`).join("\n")),
  branches: (n) =>
    prog(
      Array.from(
        { length: n },
        (_, i) => `  if (a > ${i}) a = a * 3 + ${i}; else a = a - ${i};`,
      ).join("\n"),
    ),
  "nested loops": (n) => {
    // two iterations each: unrolled while the copies stay ≤ 64, then kernel loops
    const open = Array.from(
      { length: n },
      (_, i) => `${" ".repeat(i + 2)}for (let i${i} = 0; i${i} < 2; i${i}++) {`,
    );
    const close = Array.from({ length: n }, (_, i) => `${" ".repeat(n - i + 1)}}`);
    return prog([...open, `${" ".repeat(n + 2)}a += 1;`, ...close].join("\n"));
  },
};

function main(): void {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "250,500,1000,2000" },
      runs: { type: "string", default: "3" },
    },
  });
  const sizes = values.sizes!.split(",").map(Number);
  const runs = Number(values.runs);
  const path = "/tmp/tsbpf-virtual/compile-size.ts";
  compileProbe(path, { sources: new Map([[path, prog("  a += 1;")]]) }); // warm up
  console.log("| shape | N | median ms | µs per N | result |\n| --- | --- | --- | --- | --- |");
  for (const [shape, gen] of Object.entries(SHAPES))
    // nested: 2^18 iterations of the innermost body is the most the loop budget allows (500,000
    // in total), 250 loops is the nesting limit (500 levels, two per loop)
    for (const m of shape === "nested loops" ? [6, 12, 18, 19, 250] : sizes) {
      const src = gen(m);
      const times: number[] = [];
      let result = "";
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        try {
          const out = compileProbe(path, { sources: new Map([[path, src]]) });
          result = `${out.programs[0]!.insns.length} insns`;
        } catch (e) {
          result = `error: ${(e as Error).message
            .split("\n")[0]!
            .replace(/^.*error /, "")
            .slice(0, 90)}`;
        }
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const med = times[Math.floor(times.length / 2)]!;
      console.log(
        `| ${shape} | ${m} | ${med.toFixed(0)} | ${((med * 1000) / m).toFixed(0)} | ${result} |`,
      );
    }
}

main();
