// Memory soak (issue 16, deliverable 3) — a benchmark script, not a test: a `Loader` streams
// ~1 M events/s from ringbuf_bench.bpf.o's 16 MiB ring (another process runs `produce` at
// the rate, bench/soak-producer.ts, so RSS is the consumer's alone) and the main thread consumes them the way a user would,
// `for await` over `loaded.events`, decoding every event into a plain object with the
// compiled `BenchEvent.decoder()` and checking it. Every `--every` seconds it prints RSS,
// heap and the event rate; at the end the RSS range after the first minute and its slope.
//
//   node dist/bench/soak.js [--minutes 10] [--rate 1000000] [--every 10] [--obj PATH]
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { Loader } from "tsbpf";
import { progInfo } from "../src/sys/info.js";
import { BenchEvent, BENCH_MAGIC } from "./ringbuf-events.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string", default: "1000000" },
    every: { type: "string", default: "10" },
    obj: {
      type: "string",
      default: fileURLToPath(new URL("../../build/bench/ringbuf_bench.bpf.o", import.meta.url)),
    },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const every = Number(values.every);

await using loaded = await Loader.create().skip("produce").loadFile(values.obj);
const producer = spawn(
  process.execPath,
  [
    fileURLToPath(new URL("./soak-producer.js", import.meta.url)),
    "--prog-id",
    String(progInfo(loaded.program("produce").fd).id),
    "--rate",
    String(rate),
  ],
  { stdio: ["pipe", "pipe", "inherit"] },
);
let produced = 0;
let full = 0;
createInterface({ input: producer.stdout }).on("line", (line) => {
  const m = JSON.parse(line) as { produced: number; full: number; done?: boolean };
  produced = m.produced;
  full = m.full;
  if (m.done === true) loaded.close();
});

const decoder = BenchEvent.decoder({ int64: "number" });
let consumed = 0;
let bad = 0;
let next = 0;
const samples: { t: number; rss: number }[] = [];
const start = performance.now();
let lastT = start;
let lastConsumed = 0;
const mb = (n: number) => (n / 2 ** 20).toFixed(1);
console.log(`soak: ${minutes} min at ${rate} events/s, load average ${loadavg()[0]!.toFixed(1)}`);
console.log(
  "| t (s) | RSS (MB) | heap used (MB) | external (MB) | consumed/s | ring-full drops (total) |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
const timer = setInterval(() => {
  const now = performance.now();
  const m = process.memoryUsage();
  const t = (now - start) / 1e3;
  samples.push({ t, rss: m.rss });
  const r = ((consumed - lastConsumed) * 1e3) / (now - lastT);
  lastT = now;
  lastConsumed = consumed;
  console.log(
    `| ${t.toFixed(0)} | ${mb(m.rss)} | ${mb(m.heapUsed)} | ${mb(m.external)} | ${Math.round(r)} | ${full} |`,
  );
  if (t >= minutes * 60) {
    clearInterval(timer);
    producer.stdin.end();
  }
}, every * 1000);

for await (const { events } of loaded.events) {
  for (const e of events) {
    const x = decoder.decode(e);
    if (x.seq !== next || x.value !== x.seq * 3 || x.magic !== BENCH_MAGIC) bad++;
    next = x.seq + 1;
    consumed++;
  }
}
await once(producer, "exit");
const late = samples.filter((s) => s.t >= 60);
if (late.length >= 2) {
  const rss = late.map((s) => s.rss);
  const a = late[0]!;
  const b = late[late.length - 1]!;
  console.log(
    `RSS after the first minute: ${mb(Math.min(...rss))}–${mb(Math.max(...rss))} MB, ` +
      `slope ${((b.rss - a.rss) / 2 ** 20 / ((b.t - a.t) / 60)).toFixed(2)} MB/min`,
  );
}
console.log(
  `events: produced ${produced}, consumed ${consumed}, bad ${bad}, ring-full drops ${full}; ` +
    `load average ${loadavg()[0]!.toFixed(1)}`,
);
if (bad > 0) process.exitCode = 1;
