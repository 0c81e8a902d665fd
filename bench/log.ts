// Cost of logging from a probe (issue 14), per call, under BPF_PROG_TEST_RUN: tsbpf's
// ``log.info`…` `` disabled (level below) and enabled, against bpf_printk and an aya-log-style
// C probe (bench/c/log_bench.bpf.c, built by scripts/build-bench-c.sh), each beside a program
// that does not log. Every program logs the frame length and a port once per run; the ring
// buffers are drained between batches so an enabled log always finds room (a full ring would
// time the drop path instead). Not a test: `node dist/bench/log.js [runs]`, results in
// bench/README.md ("Logging from probes").
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compileProbe } from "../src/compiler/index.js";
import { Collection } from "../src/load/collection.js";
import { LogReader, logDrops, setLogLevel } from "../src/load/logs.js";
import { RingBufReader } from "../src/reader/ringbuf.js";
import type { Program } from "../src/load/program.js";

const ROOT = join(import.meta.dirname, "../..");
const RUNS = Number(process.argv[2] ?? 2_000_000);
const BATCH = 5_000; // records of ≤ 40 bytes: a batch fits the 256 KiB rings
const ROUNDS = 5;

const TS_PROBE = `import { program, xdp, XdpAction, log, tracePrintk } from "tsbpf/probe";
program({ license: "GPL" });
export const ts_none = xdp((ctx) => XdpAction.Pass);
export const ts_disabled = xdp((ctx) => {
  log.debug\`len \${ctx.len()} port \${ctx.ingressIfindex + 8080}\`;
  return XdpAction.Pass;
});
export const ts_enabled = xdp((ctx) => {
  log.info\`len \${ctx.len()} port \${ctx.ingressIfindex + 8080}\`;
  return XdpAction.Pass;
});
export const ts_printk = xdp((ctx) => {
  tracePrintk("len %d port %d", ctx.len(), ctx.ingressIfindex + 8080);
  return XdpAction.Pass;
});
`;

/** Mean ns/run over `runs` runs in batches, `drain` between batches; the best of ROUNDS. */
function time(p: Program, runs: number, drain: () => void): number {
  const data = new Uint8Array(64);
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    let total = 0;
    let done = 0;
    while (done < runs) {
      const n = Math.min(BATCH, runs - done);
      total += p.testRun({ data, repeat: n }).duration * n;
      done += n;
      drain();
    }
    best = Math.min(best, total / runs);
  }
  return best;
}

const path = join(ROOT, "build/bench/log_bench.ts");
using ts = Collection.load(compileProbe(path, { sources: new Map([[path, TS_PROBE]]) }).elf);
using tsLogs = LogReader.open(ts);
using c = Collection.load(readFileSync(join(ROOT, "build/bench/log_bench.bpf.o")));
using cRing = RingBufReader.open(c.maps.get("aya_logs")!, { copy: false });
const drain = () => {
  tsLogs.read();
  cRing.readBatch();
  cRing.commit();
};
// bpf_printk writes to the kernel's trace buffer for everyone: a short run only
const PRINTK_RUNS = Math.min(RUNS, 50_000);
const rows: [string, string, number][] = [
  ["no log (baseline)", "tsbpf", time(ts.program("ts_none"), RUNS, drain)],
  ["no log (baseline)", "C", time(c.program("c_none"), RUNS, drain)],
  ["log disabled (level below)", "tsbpf log.debug", time(ts.program("ts_disabled"), RUNS, drain)],
  ["log disabled (level below)", "C aya-log style", time(c.program("c_aya_disabled"), RUNS, drain)],
  ["log enabled", "tsbpf log.info", time(ts.program("ts_enabled"), RUNS, drain)],
  ["log enabled", "C aya-log style", time(c.program("c_aya_enabled"), RUNS, drain)],
  ["bpf_printk", "tsbpf tracePrintk", time(ts.program("ts_printk"), PRINTK_RUNS, drain)],
  ["bpf_printk", "C bpf_printk", time(c.program("c_printk"), PRINTK_RUNS, drain)],
];
setLogLevel(ts, "info");
if (logDrops(ts) !== 0n) throw new Error(`tsbpf log records dropped: ${logDrops(ts)}`);
console.log(
  `ns/run under BPF_PROG_TEST_RUN (64-byte frame, best of ${ROUNDS} rounds of ${RUNS} runs; bpf_printk ${PRINTK_RUNS})`,
);
console.log("| what | program | ns/run |");
console.log("| --- | --- | ---: |");
for (const [what, prog, ns] of rows) console.log(`| ${what} | ${prog} | ${ns.toFixed(1)} |`);
