// Code size and verifier effort of the examples/tools ports against their clang-built C
// originals: each object loaded by tsbpf with the settings the tools use by default, each
// program paired with the original's program at the same attach point (section, `tp/` read as
// `tracepoint/`), and its translated instructions (xlated) and verified instructions
// (prog_info.verified_insns) compared. A benchmark (needs .corpus from fetched sources).
//
//   node dist/bench/tools-compare/insns.js [--corpus .corpus]
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { Collection } from "tsbpf";
import { probeElf } from "../../examples/tools/common.js";
import { original } from "./originals.js";

const TOOLS = [
  "execsnoop",
  "exitsnoop",
  "opensnoop",
  "sigsnoop",
  "statsnoop",
  "syncsnoop",
  "syscount",
  "runqslower",
  "runqlat",
  "cpudist",
  "bootstrap",
  "minimal",
];

const section = (s: string) => s.replace(/^tp\//, "tracepoint/");
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function measure(c: Collection): Map<string, { name: string; insns: number; verified: number }> {
  const out = new Map<string, { name: string; insns: number; verified: number }>();
  for (const [name, p] of c.programs) {
    const info = p.info();
    out.set(section(p.section), {
      name,
      insns: info.xlatedProgLen / 8,
      verified: info.verifiedInsns,
    });
  }
  return out;
}

function main() {
  const { values } = parseArgs({ options: { corpus: { type: "string", default: ".corpus" } } });
  const obj = join(resolve(values.corpus!), "obj");
  const ri: number[] = [];
  const rv: number[] = [];
  console.log(
    "| tool | program (attach point) | insns TS | insns clang | ratio | verified TS | verified clang | ratio |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const tool of TOOLS) {
    const o = original(tool, obj);
    let port: Collection | undefined;
    let orig: Collection | undefined;
    try {
      port = Collection.load(probeElf(tool));
      orig = Collection.load(o.elf, {
        autoload: Object.fromEntries((o.skip ?? []).map((p) => [p, false])),
        ...(o.maxEntries ? { maxEntries: o.maxEntries } : {}),
      });
      const a = measure(port);
      const b = measure(orig);
      for (const [sec, x] of a) {
        const y = b.get(sec);
        if (!y) {
          console.log(`| ${tool} | ${sec} | ${x.insns} | (none) | | ${x.verified} | | |`);
          continue;
        }
        ri.push(x.insns / y.insns);
        rv.push(x.verified / y.verified);
        console.log(
          `| ${tool} | ${sec} | ${x.insns} | ${y.insns} | ${(x.insns / y.insns).toFixed(2)} | ${x.verified} | ${y.verified} | ${(x.verified / y.verified).toFixed(2)} |`,
        );
      }
    } catch (e) {
      console.log(`| ${tool} | error: ${(e as Error).message.split("\n")[0]} | | | | | | |`);
    } finally {
      port?.close();
      orig?.close();
    }
  }
  console.log(
    `\n${ri.length} programs: instructions median ${median(ri).toFixed(2)}, worst ${Math.max(...ri).toFixed(2)}; verified median ${median(rv).toFixed(2)}, worst ${Math.max(...rv).toFixed(2)}`,
  );
}

main();
