// The producer of the RSS soak (bench/soak.ts), a process of its own so the soak's RSS is the
// consumer's alone: runs ringbuf_bench's `produce` (found by program id) at `--rate` records
// per second, paced as bench/http-producer.ts (due records per call, at most 65 536; 100 µs
// sleeps when on schedule). Records that do not fit a full ring are counted, not retried.
// Prints `{"produced":N,"full":M}` every second; exits when stdin closes.
//
//   node dist/bench/soak-producer.js --prog-id ID --rate 1000000
import { parseArgs } from "node:util";
import { progGetFdById, progTestRun } from "../src/sys/bpf.js";
import { ADAPTIVE_WAKEUP, encodeArgs } from "./ringbuf-events.js";

const { values } = parseArgs({
  options: { "prog-id": { type: "string" }, rate: { type: "string", default: "1000000" } },
});
const prog = progGetFdById(Number(values["prog-id"]));
const rate = Number(values.rate);
const ctx = new Uint8Array(16);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let stop = false;
process.stdin.on("close", () => (stop = true)).resume();
const start = performance.now();
let asked = 0;
let produced = 0;
let full = 0;
let lastReport = start;
function step(): void {
  for (let k = 0; k < 2000 && !stop; k++) {
    const now = performance.now();
    if (now - lastReport >= 1000) {
      lastReport = now;
      process.stdout.write(`${JSON.stringify({ produced, full })}\n`);
    }
    let due = Math.floor((rate * (now - start)) / 1e3) - asked;
    if (due <= 0) {
      Atomics.wait(sleeper, 0, 0, 0.1);
      continue;
    }
    if (due > 65536) due = 65536;
    encodeArgs(ctx, due, ADAPTIVE_WAKEUP, produced);
    const written = progTestRun({ progFd: prog.fd, ctxIn: ctx }).retval;
    produced += written;
    full += due - written;
    asked += due;
  }
  if (!stop)
    setImmediate(step); // let stdin's close in
  else {
    process.stdout.write(`${JSON.stringify({ produced, full, done: true })}\n`);
    prog.close();
  }
}
step();
