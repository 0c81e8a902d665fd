import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { mergeReaders } from "../../../src/reader/merge.js";
import type { EventBatch } from "../../../src/reader/batch.js";

const batch = (map: string, n: number): EventBatch => ({
  map,
  events: [new Uint8Array([n])],
  lost: 0,
});

/** A source that yields `count` batches, `delayMs` apart, and records how far it was pulled. */
function source(map: string, count: number, delayMs: number, log: string[]) {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < count; i++) {
        if (delayMs > 0) await sleep(delayMs);
        log.push(`${map}${i}`);
        yield batch(map, i);
      }
    },
  };
}

test("merges in arrival order and ends when every source has ended", async () => {
  const log: string[] = [];
  const got: string[] = [];
  for await (const b of mergeReaders([source("slow", 2, 30, log), source("fast", 3, 5, log)])) {
    got.push(`${b.map}${b.events[0]![0]}`);
  }
  assert.deepEqual(got.sort(), ["fast0", "fast1", "fast2", "slow0", "slow1"]);
  assert.ok(got.indexOf("fast2") < got.indexOf("slow1"));
});

test("a source that always has data does not starve the others", async () => {
  const log: string[] = [];
  const got: string[] = [];
  for await (const b of mergeReaders([source("a", 50, 0, log), source("b", 50, 0, log)])) {
    got.push(b.map);
    if (got.length === 20) break;
  }
  const a = got.filter((m) => m === "a").length;
  assert.ok(a >= 8 && a <= 12, `a got ${a} of 20`);
});

test("a source is pulled again only after its previous batch was consumed", async () => {
  const log: string[] = [];
  const it = mergeReaders([source("a", 3, 0, log)])[Symbol.asyncIterator]();
  await it.next();
  await sleep(10);
  assert.deepEqual(log, ["a0"], "the batch's views stay valid while the consumer holds it");
  await it.next();
  assert.deepEqual(log, ["a0", "a1"]);
  await it.return();
});

test("an error from a source ends the merge with that error", async () => {
  const failing = {
    async *[Symbol.asyncIterator](): AsyncGenerator<EventBatch> {
      yield batch("bad", 0);
      throw new Error("ring broke");
    },
  };
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const b of mergeReaders([failing, source("ok", 100, 50, [])])) got.push(b.map);
  }, /ring broke/);
  assert.deepEqual(got, ["bad"]);
});

test("no sources: an empty stream", async () => {
  const got: EventBatch[] = [];
  for await (const b of mergeReaders([])) got.push(b);
  assert.deepEqual(got, []);
});
