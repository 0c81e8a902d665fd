// Exporter overhead against series count (issue 15), side by side with the floor: a C/libbpf
// loop (bench/c/export_read.c) reading the same pinned map in the same run.
//
//   node dist/bench/export.js [--series 1000,10000,100000] [--scrapes 30]
//
// For each series count S: a hash map of S flows (key: be32 address + protocol; value: packets,
// bytes) is created, filled and pinned; export_read reads it --scrapes times; then
// export-serve.js serves it and this process scrapes /metrics --scrapes times over loopback
// (after 3 warm-up scrapes). Reported: scrape latency (HTTP, median and p99), the exporter's
// CPU per scrape (/proc/PID/stat utime+stime) and resident memory after the scrapes (VmRSS;
// VmHWM the peak), the exporter's map read + decode time alone, and the C loop's read time,
// CPU and peak RSS. Every scrape's samples are summed and checked against the map's contents.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, unlinkSync, mkdirSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createInterface } from "node:readline";
import { BpfMap } from "../src/map/map.js";
import { MapType } from "../src/obj/consts.js";
import { FlowKey, Traffic } from "./export-layout.js";
import { root, buildDir } from "./reference.js";

const { values } = parseArgs({
  options: {
    series: { type: "string", default: "1000,10000,100000" },
    scrapes: { type: "string", default: "30" },
  },
});
const SERIES = values.series.split(",").map(Number);
const SCRAPES = Number(values.scrapes);
const CLK_TCK =
  Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]); // utime, stime (fields 14, 15)
};
const status = (pid: number, key: string) =>
  Number(
    new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1],
  );

interface Row {
  series: number;
  scrapeMedianMs: number;
  scrapeP99Ms: number;
  cpuMsPerScrape: number;
  rssMiB: number;
  hwmMiB: number;
  collectMedianMs: number;
  bodyKiB: number;
  cReadMedianMs: number;
  cCpuMsPerPass: number;
  cMaxRssMiB: number;
}

const dir = `/sys/fs/bpf/tsbpf-bench-export-${process.pid}`;
mkdirSync(dir, { recursive: true });
const rows: Row[] = [];
try {
  for (const S of SERIES) {
    using map = BpfMap.create(
      {
        type: MapType.HASH,
        keySize: FlowKey.size,
        valueSize: Traffic.size,
        maxEntries: S,
        name: "flows",
      },
      { key: FlowKey, value: Traffic },
    );
    let expected = 0n;
    const entries: [ReturnType<typeof FlowKey.decode>, ReturnType<typeof Traffic.decode>][] = [];
    for (let i = 0; i < S; i++) {
      entries.push([
        { saddr: (10 << 24) + i, proto: i % 2 ? 6 : 17, pad: new Uint8Array(3) },
        { packets: BigInt(i + 1), bytes: BigInt(100 * (i + 1)) },
      ]);
      expected += BigInt(i + 1);
    }
    map.setBatch(entries);
    const pin = join(dir, `flows-${S}`);
    map.pin(pin);
    try {
      const c = spawnSync(
        join(buildDir, "export_read"),
        ["--pin", pin, "--passes", String(SCRAPES)],
        {
          encoding: "utf8",
        },
      );
      if (c.status !== 0) throw new Error(`export_read failed: ${c.stderr}`);
      const cr = JSON.parse(c.stdout) as Record<string, number>;
      if (BigInt(c.stdout.match(/"checksum":(\d+)/)![1]!) !== expected * BigInt(SCRAPES))
        throw new Error("export_read checksum mismatch");

      const child = spawn(
        process.execPath,
        [join(root, "dist/bench/export-serve.js"), "--pin", pin],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const { port } = JSON.parse((await lines.next()).value as string) as { port: number };
      const url = `http://127.0.0.1:${port}/metrics`;
      const scrape = async () => {
        const t0 = process.hrtime.bigint();
        const body = await (await fetch(url)).text();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        return { ms, body };
      };
      for (let i = 0; i < 3; i++) await scrape();
      const cpu0 = cpuTicks(child.pid!);
      const lat: number[] = [];
      let bodyBytes = 0;
      for (let i = 0; i < SCRAPES; i++) {
        const { ms, body } = await scrape();
        lat.push(ms);
        bodyBytes = body.length;
        let sum = 0n;
        let n = 0;
        for (const line of body.split("\n"))
          if (line.startsWith("bench_packets_total{")) {
            sum += BigInt(line.slice(line.lastIndexOf(" ") + 1));
            n++;
          }
        if (n !== S || sum !== expected)
          throw new Error(
            `scrape ${i}: ${n} series summing to ${sum}, expected ${S} and ${expected}`,
          );
      }
      const cpu1 = cpuTicks(child.pid!);
      const rss = status(child.pid!, "VmRSS");
      const hwm = status(child.pid!, "VmHWM");
      child.kill("SIGTERM");
      const { collect_ms } = JSON.parse((await lines.next()).value as string) as {
        collect_ms: number[];
      };
      rows.push({
        series: S,
        scrapeMedianMs: quantile(lat, 0.5),
        scrapeP99Ms: quantile(lat, 0.99),
        cpuMsPerScrape: ((cpu1 - cpu0) * 1000) / CLK_TCK / SCRAPES,
        rssMiB: rss / 1024,
        hwmMiB: hwm / 1024,
        collectMedianMs: quantile(collect_ms.slice(3), 0.5),
        bodyKiB: bodyBytes / 1024,
        cReadMedianMs: cr.pass_ms_median!,
        cCpuMsPerPass: cr.cpu_ms_per_pass!,
        cMaxRssMiB: cr.maxrss_kib! / 1024,
      });
    } finally {
      unlinkSync(pin);
    }
  }
} finally {
  rmdirSync(dir);
}

const f = (x: number, d = 2) => x.toFixed(d);
console.log(
  "| series | scrape median ms | scrape p99 ms | exporter CPU ms/scrape | exporter RSS MiB (peak) | read+decode ms | body KiB | C read ms | C CPU ms/pass | C max RSS MiB |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows)
  console.log(
    `| ${r.series} | ${f(r.scrapeMedianMs)} | ${f(r.scrapeP99Ms)} | ${f(r.cpuMsPerScrape)} | ${f(r.rssMiB, 0)} (${f(r.hwmMiB, 0)}) | ${f(r.collectMedianMs)} | ${f(r.bodyKiB, 0)} | ${f(r.cReadMedianMs, 3)} | ${f(r.cCpuMsPerPass, 3)} | ${f(r.cMaxRssMiB, 1)} |`,
  );
console.log(JSON.stringify({ scrapes: SCRAPES, rows }));
