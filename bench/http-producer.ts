// Worker thread of the trace_http loss bench (bench/http-loss.ts): the counterpart of
// produce() in bench/c/http_consume.c. Runs the XDP program through BPF_PROG_TEST_RUN on the
// frame of bench/c/http_packet.h at `rate` runs per second for `seconds`: whenever the
// schedule is behind it runs the program `due` times in one call (at most 4096), otherwise it
// sleeps 100 µs. Posts { produced, seconds } when done.
import { parentPort, workerData } from "node:worker_threads";
import { progTestRun } from "../src/sys/bpf.js";
import { httpFrame } from "./http-events.js";

const port = parentPort;
if (!port) throw new Error("http-producer.js runs as a worker thread of bench/http-loss.js");
const { progFd, rate, seconds } = workerData as { progFd: number; rate: number; seconds: number };
const frame = httpFrame();
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const start = performance.now();
let produced = 0;
for (;;) {
  const t = (performance.now() - start) / 1e3;
  if (t >= seconds) break;
  let due = Math.floor(rate * t) - produced;
  if (due <= 0) {
    Atomics.wait(sleeper, 0, 0, 0.1); // 100 µs, as usleep(100)
    continue;
  }
  if (due > 4096) due = 4096;
  progTestRun({ progFd, dataIn: frame, repeat: due });
  produced += due;
}
port.postMessage({ produced, seconds: (performance.now() - start) / 1e3 });
