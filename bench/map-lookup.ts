// The JS side of the map lookup bench, replicating map_lookup.c: a BPF_MAP_TYPE_HASH
// u32 → u64 named bench_lookup, key k holding k·7, looked up with BpfMap.get through the
// tsbpf/types codecs (as a user would) on keys 0, 1, …, entries−1, 0, … for a given time,
// checking every value and reading the clock once per 4096 lookups. A second loop reads the
// whole map with BPF_MAP_LOOKUP_BATCH (BpfMap.getBatch), which C's bench does not do.
import { BpfMap, MapType } from "tsbpf";
import { u32, u64 } from "tsbpf/types";

export interface LookupResult {
  entries: number;
  lookups: number;
  seconds: number;
  lookups_per_sec: number;
  /** Σ values read, wrapping at 2⁶⁴ */
  checksum: bigint;
}

/** Lookups between two reads of the clock, as in map_lookup.c. */
const CLOCK_EVERY = 4096;

/** A fresh bench_lookup map filled the way map_lookup.c fills it. */
export function createLookupMap(entries: number): BpfMap<number, bigint> {
  const map = BpfMap.create(
    {
      type: MapType.HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: entries,
      name: "bench_lookup",
    },
    { key: u32, value: u64 },
  );
  try {
    for (let k = 0; k < entries; k++) map.set(k, BigInt(k) * 7n, "any");
  } catch (e) {
    map.close();
    throw e;
  }
  return map;
}

/** BpfMap.get on keys 0…entries−1 round and round for `seconds`; every value checked. */
export function lookupLoop(map: BpfMap<number, bigint>, seconds: number): LookupResult {
  const entries = map.maxEntries;
  // The check's expected values, made once: the loop then allocates only what get() returns.
  const want = Array.from({ length: entries }, (_, k) => BigInt(k) * 7n);
  let key = 0;
  let lookups = 0;
  let bad = 0;
  let sum = 0n;
  const start = performance.now();
  const end = start + seconds * 1e3;
  let t = start;
  while (t < end) {
    for (let i = 0; i < CLOCK_EVERY; i++) {
      const v = map.get(key);
      if (v === undefined || v !== want[key]) bad++;
      else sum += v;
      if (++key === entries) key = 0;
    }
    lookups += CLOCK_EVERY;
    t = performance.now();
  }
  if (bad > 0) throw new Error(`map lookup bench: ${bad} lookups failed or returned a wrong value`);
  const secs = (t - start) / 1e3;
  return {
    entries,
    lookups,
    seconds: secs,
    lookups_per_sec: lookups / secs,
    checksum: BigInt.asUintN(64, sum),
  };
}

/**
 * The whole map through BpfMap.getBatch (BPF_MAP_LOOKUP_BATCH, `batchSize` elements per
 * syscall), again and again for `seconds`; `lookups` counts elements read, all checked.
 */
export function batchLookupLoop(
  map: BpfMap<number, bigint>,
  seconds: number,
  batchSize = 256,
): LookupResult {
  const entries = map.maxEntries;
  let lookups = 0;
  let sum = 0n;
  const start = performance.now();
  const end = start + seconds * 1e3;
  let t = start;
  while (t < end) {
    const all = map.getBatch({ batchSize });
    if (all.length !== entries)
      throw new Error(`map lookup bench: getBatch returned ${all.length} of ${entries} elements`);
    for (const [k, v] of all) {
      if (v !== BigInt(k) * 7n)
        throw new Error(`map lookup bench: getBatch gave ${v} for key ${k}, expected ${k * 7}`);
      sum += v;
    }
    lookups += all.length;
    t = performance.now();
  }
  const secs = (t - start) / 1e3;
  return {
    entries,
    lookups,
    seconds: secs,
    lookups_per_sec: lookups / secs,
    checksum: BigInt.asUintN(64, sum),
  };
}
