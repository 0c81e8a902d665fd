// The real path a user takes (issue 16, deliverable 2): `Loader` + `for await` over the decoded
// events of the trace_http probe (bench/compiler/programs/trace_http.ts, built by tsbpf),
// against libbpf's perf_buffer consumer decoding the same struct (bench/c/http_consume.c),
// at rising producer rates. Each side runs in its own process with a producer thread that runs
// the XDP program through BPF_PROG_TEST_RUN at the rate (bench/http-producer.ts, the C
// produce()); events lost are what the kernel reports (PERF_RECORD_LOST) plus what never
// arrived. The figure is the rate where each side starts losing events.
//
//   node dist/bench/http-loss.js [--rates 20000,40000,…] [--seconds 2] [--elf PATH]
//   node dist/bench/http-loss.js --child RATE SECONDS ELF   (one tsbpf run; used by the above)
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { Loader } from "tsbpf";
import { goodEvent } from "./http-events.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Run {
  impl: string;
  rate: number;
  seconds: number;
  produced: number;
  produced_per_sec: number;
  received: number;
  lost: number;
  bad: number;
}

/** One tsbpf run in this process: the Loader, for await, a decoded check per event. */
async function child(rate: number, seconds: number, elf: string): Promise<Run> {
  await using loaded = await Loader.create().skip("trace_http").loadFile(elf);
  const worker = new Worker(new URL("./http-producer.js", import.meta.url), {
    workerData: { progFd: loaded.program("trace_http").fd, rate, seconds },
  });
  let received = 0;
  let lost = 0;
  let bad = 0;
  let done: { produced: number; seconds: number } | undefined;
  let last = 0;
  const finished = once(worker, "message").then(([m]) => {
    done = m as { produced: number; seconds: number };
    // Nothing new for 500 ms after the producer finished: what is missing is lost.
    const check = setInterval(() => {
      if (received + lost === last) {
        clearInterval(check);
        loaded.close();
      }
      last = received + lost;
    }, 500);
  });
  for await (const batch of loaded.events) {
    lost += batch.lost;
    for (const e of batch.events) {
      received++;
      if (!goodEvent(e)) bad++;
    }
    if (done !== undefined && received + lost >= done.produced) loaded.close();
  }
  await finished;
  await worker.terminate();
  const d = done!;
  return {
    impl: "tsbpf",
    rate,
    seconds: d.seconds,
    produced: d.produced,
    produced_per_sec: d.produced / d.seconds,
    received,
    lost,
    bad,
  };
}

function run(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Run;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      rates: { type: "string", default: "10000,20000,40000,80000,160000,320000" },
      seconds: { type: "string", default: "2" },
      elf: { type: "string" },
      child: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (values.child) {
    const [rate, seconds, elf] = positionals;
    process.stdout.write(`${JSON.stringify(await child(Number(rate), Number(seconds), elf!))}\n`);
    return;
  }
  const cBin = join(ROOT, "build/bench/http_consume");
  if (!existsSync(cBin)) throw new Error(`${cBin} is missing: run scripts/build-bench-c.sh`);
  let elf = values.elf;
  let tmp: string | undefined;
  if (elf === undefined) {
    tmp = mkdtempSync(join(tmpdir(), "tsbpf-http-loss-"));
    const b = spawnSync(
      process.execPath,
      [
        join(ROOT, "dist/src/cli/bin.js"),
        "build",
        join(ROOT, "bench/compiler/programs/trace_http.ts"),
        "-o",
        tmp,
      ],
      { encoding: "utf8", env: { ...process.env, TSBPF_SERVER: "0" } },
    );
    if (b.status !== 0) throw new Error(`tsbpf build failed: ${b.stderr}`);
    elf = join(tmp, "trace_http/trace_http.elf");
  }
  const seconds = values.seconds;
  const load0 = loadavg()[0]!;
  const rows: string[] = [];
  try {
    for (const rate of values.rates.split(",").map(Number)) {
      const c = run(cBin, ["--obj", elf, "--rate", String(rate), "--seconds", seconds]);
      const js = run(process.execPath, [
        fileURLToPath(import.meta.url),
        "--child",
        String(rate),
        seconds,
        elf,
      ]);
      for (const x of [c, js]) {
        if (x.bad > 0) throw new Error(`${x.impl}: ${x.bad} events failed the checks`);
        const missing = x.produced - x.received;
        rows.push(
          `| ${rate} | ${x.impl} | ${Math.round(x.produced_per_sec)} | ${x.produced} | ${x.received} | ` +
            `${x.lost} | ${missing} | ${((100 * missing) / x.produced).toFixed(2)}% |`,
        );
        process.stderr.write(`${JSON.stringify(x)}\n`);
      }
    }
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`);
  console.log(
    "| rate asked (ev/s) | side | rate made | produced | received | lost (kernel) | missing | loss |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(r);
}

await main();
