// What every event reader yields, so a loader can merge readers of different map types.

/**
 * One batch of events from one map (and, for perf event arrays, one CPU).
 *
 * Unless the reader was opened with `copy: true`, each event is a zero-copy view into the
 * kernel's ring (a perf sample that wraps the ring end is the one exception: it is copied
 * into a per-CPU scratch buffer). Views stay valid until the consumer asks for the next batch
 * of the same reader (the reader then hands the space back to the kernel) or closes it; copy
 * what you keep (`event.slice()`).
 */
export interface EventBatch {
  /** the map's name */
  map: string;
  events: Uint8Array[];
  /** events the kernel dropped since the previous batch because the ring was full (perf only) */
  lost: number;
  /** the CPU whose ring this batch came from (perf event arrays only) */
  cpu?: number;
}

/** What mergeReaders needs from a reader. Both RingBufReader and PerfReader implement it. */
export interface EventReader extends AsyncIterable<EventBatch> {
  readonly name: string;
  close(): void;
}
