// A whole map read in chunks, as the batch syscall leaves them: keys at keySize strides and
// values at valueStride strides (per-CPU maps: one 8-aligned slot per possible CPU) in one buffer
// pair per call, so the collector decodes in place — no per-element views or arrays, which were
// most of the garbage a 100k-element scrape made (bench/README.md). Kernels without batch
// lookups (before 5.6) are read key by key into the same shape.
import type { BpfMap } from "../map/map.js";
import { mapLookupBatch } from "../sys/bpf.js";
import { possibleCpuCount } from "../sys/cpus.js";
import { Errno, SysError } from "../sys/errors.js";

export interface Chunk {
  readonly keys: DataView;
  readonly values: DataView;
  readonly count: number;
  readonly keySize: number;
  readonly valueStride: number;
  /** bytes between two CPUs' values (per-CPU maps), else the value size */
  readonly slot: number;
  readonly cpus: number;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Reads every element of `map`; `noBatch` remembers maps whose kernel refused batch lookups. */
export function readChunks(map: BpfMap, noBatch: Set<BpfMap>, batchSize = 4096): Chunk[] {
  const keySize = map.keySize;
  const perCpu = map.isPerCpu;
  const cpus = perCpu ? possibleCpuCount() : 1;
  const slot = perCpu ? (map.valueSize + 7) & ~7 : map.valueSize;
  const valueStride = slot * cpus;
  const shape = { keySize, valueStride, slot, cpus };
  if (!noBatch.has(map)) {
    let batch = Math.max(1, Math.min(batchSize, map.maxEntries || batchSize));
    const cursorSize = Math.max(8, keySize);
    let inBatch: Uint8Array | null = null;
    let outBatch: Uint8Array = new Uint8Array(cursorSize);
    const out: Chunk[] = [];
    for (;;) {
      const keys = new Uint8Array(batch * keySize);
      const values = new Uint8Array(batch * valueStride);
      let res;
      try {
        res = mapLookupBatch(map.fd, { inBatch, outBatch, keys, values, count: batch });
      } catch (e) {
        // A hash bucket larger than the batch: retry the same step with room for it.
        if (e instanceof SysError && e.errno === Errno.ENOSPC && batch < 1 << 20) {
          batch *= 2;
          continue;
        }
        if (
          e instanceof SysError &&
          (e.errno === Errno.EINVAL || e.errno === Errno.ENOTSUPP) &&
          out.length === 0 &&
          inBatch === null
        ) {
          noBatch.add(map); // before 5.6, or a map type without batch ops
          break;
        }
        throw e;
      }
      if (res.count > 0)
        out.push({ keys: view(keys), values: view(values), count: res.count, ...shape });
      if (res.done) return out;
      const next: Uint8Array = inBatch ?? new Uint8Array(cursorSize);
      inBatch = outBatch;
      outBatch = next;
    }
  }
  // Key by key: one chunk holding everything.
  const keyList: Uint8Array[] = [];
  const valueList: Uint8Array[] = [];
  if (perCpu)
    for (const [k, vs] of map.perCpu().entriesSync()) {
      keyList.push(k.slice());
      const v = new Uint8Array(valueStride);
      vs.forEach((s, i) => v.set(s.subarray(0, map.valueSize), i * slot));
      valueList.push(v);
    }
  else
    for (const [k, v] of map.entriesSync()) {
      keyList.push(k.slice());
      valueList.push(v.slice());
    }
  const keys = new Uint8Array(keyList.length * keySize);
  const values = new Uint8Array(valueList.length * valueStride);
  keyList.forEach((k, i) => keys.set(k, i * keySize));
  valueList.forEach((v, i) => values.set(v, i * valueStride));
  return [{ keys: view(keys), values: view(values), count: keyList.length, ...shape }];
}
