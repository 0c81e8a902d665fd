// Event readers: BPF ring buffers and perf event arrays as async iterables of batches.
export type { EventBatch, EventReader } from "./batch.js";
export { mergeReaders } from "./merge.js";
export {
  RingBufReader,
  type RingBufReaderOptions,
  type RecordBatch,
  type RecordCallback,
} from "./ringbuf.js";
export {
  RingCorruptError,
  ReaderClosedError,
  ReaderOptionError,
  type RingLocation,
} from "./errors.js";
export type { MapSource } from "./source.js";
export { PerfReader, type PerfReaderOptions } from "./perf.js";
export { compileBtfDecoder, type BtfDecoder } from "./btf-decoder.js";
