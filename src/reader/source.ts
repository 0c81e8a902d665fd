// What a reader needs to know about the map it reads: a BpfMap, or a bare fd + size.
import { MapError } from "../map/map.js";
import { MapType } from "../obj/consts.js";
import { dupFd, type FD } from "../sys/fd.js";

/** A map to read from. `BpfMap` satisfies it; so does `{ fd, maxEntries }`. */
export interface MapSource {
  /** the map's fd (a number, or an owner such as FD with a numeric `fd`) */
  readonly fd: number | { readonly fd: number };
  /** max_entries: the data size of a ring buffer; unused for perf event arrays */
  readonly maxEntries: number;
  /** shown in errors and in EventBatch.map; "map" when absent */
  readonly name?: string;
  /** BPF_MAP_TYPE_*, checked when present */
  readonly type?: number;
}

/** Throws a MapError naming both types when `source` says it is not of `expectedType`. */
export function checkMapType(source: MapSource, expectedType: number, reader: string): void {
  const name = source.name ?? "map";
  if (source.type !== undefined && source.type !== expectedType) {
    const want = Object.entries(MapType).find(([, v]) => v === expectedType)?.[0];
    const got = Object.entries(MapType).find(([, v]) => v === source.type)?.[0] ?? source.type;
    throw new MapError(
      `${reader} needs a BPF_MAP_TYPE_${want} map, but map "${name}" is ${
        typeof got === "string" ? `BPF_MAP_TYPE_${got}` : `of type ${got}`
      }`,
    );
  }
}

const readersOf = new WeakMap<object, Set<{ close(): void }>>();

/**
 * Tie `reader` to the map object it was opened on: endReadersOf(map) (Collection.close() calls
 * it for the maps it loaded) closes it, which ends its iterators. Returns the untie function.
 */
export function tieReader(source: MapSource, reader: { close(): void }): () => void {
  let set = readersOf.get(source);
  if (!set) readersOf.set(source, (set = new Set()));
  set.add(reader);
  return () => set.delete(reader);
}

/** Close every reader opened on `map` (see tieReader). */
export function endReadersOf(map: object): void {
  const set = readersOf.get(map);
  if (!set) return;
  readersOf.delete(map);
  for (const r of [...set]) r.close();
}

/** The map's name and a duplicate fd the reader owns (so closing the map is harmless). */
export function adoptMap(
  source: MapSource,
  expectedType: number,
  reader: string,
): { name: string; fd: FD } {
  checkMapType(source, expectedType, reader);
  const name = source.name ?? "map";
  const raw = typeof source.fd === "number" ? source.fd : source.fd.fd;
  return { name, fd: dupFd(raw, `map "${name}"`) };
}
