// Worker thread of the threaded ring buffer bench: the counterpart of producer_main() in
// ringbuf_consume.c. It runs `produce` through BPF_PROG_TEST_RUN back to back (adaptive
// wakeups) until the requested number of records is written, retrying what did not fit, so
// the main thread's event loop does nothing but consume. File descriptors are per process,
// so the program fd opened by the main thread works here as is.
//
// Protocol: posts "ready" once; then for each { events, batch } message produces that many
// records from seq 0 and posts { retries }.
import { parentPort, workerData } from "node:worker_threads";
import { progTestRun } from "../src/sys/bpf.js";
import { ADAPTIVE_WAKEUP, encodeArgs } from "./ringbuf-events.js";

export interface ProducerJob {
  events: number;
  batch: number;
}

export interface ProducerDone {
  retries: number;
}

const port = parentPort;
if (!port) throw new Error("ringbuf-producer.js runs as a worker thread of bench/ringbuf.js");
const { progFd } = workerData as { progFd: number };
const ctx = new Uint8Array(16);

port.on("message", (job: ProducerJob) => {
  let seq = 0;
  let retries = 0;
  while (seq < job.events) {
    const n = Math.min(job.batch, job.events - seq);
    encodeArgs(ctx, n, ADAPTIVE_WAKEUP, seq);
    const written = progTestRun({ progFd, ctxIn: ctx }).retval;
    seq += written;
    if (written < n) retries++;
  }
  port.postMessage({ retries } satisfies ProducerDone);
});
port.postMessage("ready");
