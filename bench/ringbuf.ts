// The JS side of the ring buffer bench, replicating ringbuf_consume.c (protocol in
// bench/c/README.md) on the same object, build/bench/ringbuf_bench.bpf.o: loaded through
// Collection, produced into with BPF_PROG_TEST_RUN, consumed with RingBufReader.consume and
// read through a tsbpf/types struct view (ringbuf-events.ts).
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { Collection, RingBufReader, type Program } from "tsbpf";
import {
  BPF_RB_NO_WAKEUP,
  CompiledChecker,
  RECORD_FOOTPRINT,
  encodeArgs,
  makeSink,
  type DecodeVariant,
  type EventSink,
  type ReadApi,
} from "./ringbuf-events.js";
import type { ProducerDone, ProducerJob } from "./ringbuf-producer.js";

export type RingbufMode = "batch" | "threaded";

/** The fields ringbuf_consume prints, measured on the JS side. */
export interface RingbufResult {
  mode: RingbufMode;
  events: number;
  batch: number;
  seconds: number;
  events_per_sec: number;
  consume_seconds: number;
  consume_events_per_sec: number;
  full_retries: number;
  /** undefined for the "none" decode variant, which does not read the records */
  checksum: bigint | undefined;
  decode: DecodeVariant;
  api: ReadApi;
  /** threaded mode: times the consumer found the ring empty and waited (epoll via uv_poll) */
  waits?: number;
}

/**
 * One loaded bench object with its reader, reused across runs of both modes (the ring's
 * positions simply continue; every run restarts seq at 0 as the C side does).
 */
export class RingbufBench implements Disposable {
  private constructor(
    private readonly coll: Collection,
    private readonly prog: Program,
    private readonly reader: RingBufReader,
  ) {}

  private worker: Worker | undefined;
  private workerError: Error | undefined;

  static async open(objPath: string): Promise<RingbufBench> {
    const coll = await Collection.loadFile(objPath);
    try {
      const reader = RingBufReader.open(coll.map("rb"));
      return new RingbufBench(coll, coll.program("produce"), reader);
    } catch (e) {
      coll.close();
      throw e;
    }
  }

  private checkBatch(batch: number): void {
    if (!Number.isInteger(batch) || batch < 1 || batch > 1 << 23)
      throw new RangeError(`ring buffer bench: batch ${batch} must be 1 … 2²³ (bpf_loop's limit)`);
    if (batch * RECORD_FOOTPRINT > this.reader.size)
      throw new RangeError(
        `ring buffer bench: batch ${batch} does not fit the ${this.reader.size}-byte ring`,
      );
  }

  /**
   * Batch mode: produce a batch (no wakeups), then drain it; `consume_*` times the draining
   * alone — the consumer comparison. `decode` picks the per-event work (view: the measured
   * one; struct, dataview and none: diagnostics).
   */
  batch(
    events: number,
    batch: number,
    decode: DecodeVariant = "compiled",
    api: ReadApi = "records",
  ): RingbufResult {
    this.checkBatch(batch);
    const check = makeSink(decode);
    const ctx = new Uint8Array(16);
    let consumeTime = 0;
    this.reader.consume(() => {
      throw new Error("ring buffer bench: the ring should be empty before a run");
    });
    const start = performance.now();
    while (check.consumed < events) {
      const n = Math.min(batch, events - check.consumed);
      encodeArgs(ctx, n, BPF_RB_NO_WAKEUP, check.consumed);
      const written = this.prog.testRun({ ctx }).retval;
      if (written !== n)
        throw new Error(
          `ring buffer bench: produce wrote ${written} of ${n} records into an empty ring`,
        );
      const t0 = performance.now();
      this.drain(check, api);
      consumeTime += performance.now() - t0;
    }
    const seconds = (performance.now() - start) / 1e3;
    return this.result("batch", events, batch, seconds, consumeTime / 1e3, 0, check, decode, api);
  }

  /**
   * Threaded mode: a worker thread produces with adaptive wakeups while this thread consumes,
   * waiting through RingBufReader.wait() (uv_poll/epoll) whenever the ring is empty.
   */
  async threaded(events: number, batch: number, api: ReadApi = "records"): Promise<RingbufResult> {
    this.checkBatch(batch);
    const worker = await this.producer();
    const check = new CompiledChecker();
    const done = once(worker, "message") as Promise<[ProducerDone]>;
    const start = performance.now();
    worker.postMessage({ events, batch } satisfies ProducerJob);
    let waits = 0;
    try {
      while (check.consumed < events) {
        if (this.drain(check, api) === 0) {
          waits++;
          await this.reader.wait();
        }
      }
    } catch (e) {
      throw this.workerError ?? e;
    }
    const seconds = (performance.now() - start) / 1e3;
    const [{ retries }] = await done;
    return {
      ...this.result("threaded", events, batch, seconds, seconds, retries, check, "compiled", api),
      waits,
    };
  }

  /** Everything available now, through the chosen API; returns the number of records. */
  private drain(check: EventSink, api: ReadApi): number {
    if (api === "callback") return this.reader.consume(check.onRecord);
    let n = 0;
    for (;;) {
      const b = this.reader.readRecords();
      if (b.count === 0) return n;
      check.onBatch(b);
      n += b.count;
    }
  }

  /** The producer worker, started once and kept for every threaded run. */
  private async producer(): Promise<Worker> {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./ringbuf-producer.js", import.meta.url), {
      workerData: { progFd: this.prog.fd },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
    });
    // A producer that dies mid-run would leave the consumer waiting forever: stop it instead.
    worker.on("error", (e) => {
      this.workerError = new Error(`ring buffer producer worker failed: ${e.message}`);
      this.reader.close();
    });
    this.worker = worker;
    return worker;
  }

  private result(
    mode: RingbufMode,
    events: number,
    batch: number,
    seconds: number,
    consumeSeconds: number,
    retries: number,
    check: EventSink,
    decode: DecodeVariant,
    api: ReadApi,
  ): RingbufResult {
    if (check.consumed !== events)
      throw new Error(`ring buffer bench: consumed ${check.consumed} events, expected ${events}`);
    if (check.bad > 0)
      throw new Error(`ring buffer bench: ${check.bad} records did not match the protocol`);
    return {
      mode,
      events,
      batch,
      seconds,
      events_per_sec: events / seconds,
      consume_seconds: consumeSeconds,
      consume_events_per_sec: events / consumeSeconds,
      full_retries: retries,
      checksum: check.checksum,
      decode,
      api,
    };
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
    this.reader.close();
    this.coll.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
