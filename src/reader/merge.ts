// Several readers as one stream of batches (what Loader.events yields).
import type { EventBatch, EventReader } from "./batch.js";

type Step = { i: number; r: IteratorResult<EventBatch, unknown> } | { i: number; err: unknown };

/**
 * Batches from all `readers` in arrival order; a reader that always has data cannot starve
 * the others (the one just served goes to the back of the line). Each reader is asked for its
 * next batch only after the consumer moved past its previous one, so the zero-copy views of
 * a yielded batch stay valid until the loop asks for the next batch. Ends when every reader
 * has ended (they end when closed). A reader error ends the merge with that error. Breaking
 * out of the loop returns the readers' iterators but does not close the readers.
 */
export async function* mergeReaders(
  readers: Iterable<AsyncIterable<EventBatch>> | Iterable<EventReader>,
): AsyncGenerator<EventBatch, void, undefined> {
  const its = [...readers].map((r) => r[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<Step>>();
  const arm = (i: number) => {
    pending.set(
      i,
      its[i]!.next().then(
        (r) => ({ i, r }),
        (err: unknown) => ({ i, err }),
      ),
    );
  };
  its.forEach((_, i) => arm(i));
  try {
    while (pending.size > 0) {
      const step = await Promise.race(pending.values());
      pending.delete(step.i);
      if ("err" in step) throw step.err;
      if (step.r.done) continue;
      yield step.r.value;
      arm(step.i);
    }
  } finally {
    // Iterators with a next() in flight finish it first; do not wait for them here.
    for (const i of pending.keys()) void its[i]!.return?.(undefined).catch(() => {});
  }
}
