// Reading a perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY): the map holds, per CPU, a
// PERF_COUNT_SW_BPF_OUTPUT perf event whose mmapped ring receives what bpf_perf_event_output
// writes on that CPU. The reader opens those events, mmaps their rings, installs them in the
// map, and walks the rings (perf-ring.ts, pure and unit-tested on synthetic memory).
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { MapType } from "../obj/consts.js";
import { mapDeleteElem, mapUpdateElem } from "../sys/bpf.js";
import { possibleCpus } from "../sys/cpus.js";
import { Errno, SysError } from "../sys/errors.js";
import type { FD } from "../sys/fd.js";
import { mmapPerfBuffer, munmap, pageSize } from "../sys/mmap.js";
import {
  openBpfOutputCountingLost,
  perfEventDisable,
  perfEventEnable,
  perfEventLost,
} from "../sys/perf-event.js";
import type { EventBatch, EventReader } from "./batch.js";
import { checkCountOption, ReaderClosedError, ReaderOptionError } from "./errors.js";
import { PerfRing } from "./perf-ring.js";
import { LatchedReadiness, type Readiness } from "./readiness.js";
import { MapError } from "../map/map.js";
import { adoptMap, checkMapType, tieReader, type MapSource } from "./source.js";

export interface PerfReaderOptions {
  /** Data pages per CPU ring, a power of two (default 32: 128 KiB with 4 KiB pages). */
  pageCount?: number;
  /** CPUs to read (default: every possible CPU; offline ones are skipped). */
  cpus?: readonly number[];
  /** Return copies instead of views into the rings (and hand space back at once). */
  copy?: boolean;
  /** Most events per readBatch / iterator step, over all CPUs (default: all available). */
  maxBatch?: number;
  /**
   * Samples per wakeup of a waiting reader (perf_event_attr.wakeup_events, default 1). More
   * means fewer wakeups under load, but a waiting iterator sees the last < n samples of a
   * burst only when more arrive.
   */
  wakeupEvents?: number;
}

const DEFAULT_PAGES = 32;

/** One CPU's event, ring and mapping. */
interface CpuRing {
  cpu: number;
  event: FD;
  mapping: ArrayBuffer;
  ring: PerfRing;
  /** the event reads back its lost-sample count (PERF_FORMAT_LOST, Linux ≥ 6.0) */
  countsLost: boolean;
  /** sum of the LOST records read from this ring */
  recorded: number;
  /** lost samples reported in batches for this CPU (≥ recorded once the counter was read) */
  reported: number;
}

/**
 * Consumer of a perf event array: one ring per CPU.
 *
 * ```ts
 * using reader = PerfReader.open(map);
 * for await (const { cpu, events, lost } of reader) …
 * ```
 *
 * Events are the raw sample bytes exactly as the kernel reports them: the kernel pads each
 * sample so that its u32 size plus data is a multiple of 8, and reports the padded size, so a
 * 16-byte output arrives as 20 bytes (4 zero bytes at the end). Decode with the struct's own
 * size. Views are zero copy (a sample wrapping the ring end is copied into a per-CPU scratch
 * buffer) and valid until the next readBatch / iterator step / close(); use `copy` to keep them.
 *
 * Lost samples: when a CPU's ring is full the kernel drops samples and, with the next sample
 * that fits, writes a LOST record with the count; `lost` in the batch reports it (and
 * `totalLost` sums it). From Linux 6.0 the kernel also counts every drop at once
 * (PERF_FORMAT_LOST): whenever a readBatch finds every ring empty (so before an iterator
 * waits), the reader reads that count on each CPU and reports drops no LOST record has told of
 * yet, as a batch with no events; the LOST record that arrives later is then not counted
 * again. So once the reader has caught up, the losses reported are exact (`lossExact` true),
 * and close() reads the counts a last time so `totalLost` is exact after it. Before 6.0
 * (`lossExact` false) samples dropped after the last successful one on a CPU are reported
 * only once another sample is written on that CPU, and may never be.
 */
export class PerfReader implements EventReader {
  readonly name: string;
  /** CPUs whose rings this reader reads */
  readonly cpus: readonly number[];
  private readonly mapFd: FD;
  private readonly rings: CpuRing[];
  private readonly readiness: Readiness;
  private readonly copy: boolean;
  private readonly maxBatch: number;
  private next = 0;
  private lostSoFar = 0;
  private untie: () => void = () => {};
  private closed = false;
  /** Whether every CPU's event counts its drops (Linux ≥ 6.0): see "Lost samples" above. */
  readonly lossExact: boolean;

  private constructor(name: string, mapFd: FD, rings: CpuRing[], opts: PerfReaderOptions) {
    this.name = name;
    this.mapFd = mapFd;
    this.rings = rings;
    this.cpus = rings.map((r) => r.cpu);
    this.lossExact = rings.every((r) => r.countsLost);
    this.readiness = new LatchedReadiness(
      rings.map((r) => r.event.fd),
      `perf event array "${name}"`,
      () => rings.some((r) => r.ring.hasData()),
    );
    this.copy = opts.copy ?? false;
    this.maxBatch = opts.maxBatch ?? Number.MAX_SAFE_INTEGER;
  }

  /**
   * Open a BPF_OUTPUT perf event and ring on each CPU and install them in `map` at index
   * `cpu`. The map needs max_entries above the highest CPU number. Offline CPUs are skipped
   * when `cpus` is not given (their events cannot be opened); naming one in `cpus` fails.
   */
  static open(map: MapSource, opts: PerfReaderOptions = {}): PerfReader {
    checkMapType(map, MapType.PERF_EVENT_ARRAY, "PerfReader");
    const pages = opts.pageCount ?? DEFAULT_PAGES;
    const label = map.name ?? "map";
    checkCountOption(label, "maxBatch", opts.maxBatch);
    checkCountOption(label, "wakeupEvents", opts.wakeupEvents, 0xffffffff);
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0 || pages > 1 << 18) {
      throw new ReaderOptionError(
        `perf event array "${label}": pageCount ${pages} must be a power of two (1 … 262144)`,
      );
    }
    const explicit = opts.cpus !== undefined;
    const cpus = [...(opts.cpus ?? possibleCpus())];
    if (cpus.length === 0)
      throw new ReaderOptionError(
        `perf event array "${label}": cpus is empty: name at least one CPU, or omit it to read every online CPU`,
      );
    for (const cpu of cpus) {
      if (!Number.isInteger(cpu) || cpu < 0 || cpu >= map.maxEntries) {
        throw new MapError(
          `perf event array "${label}" has ${map.maxEntries} entries, so it cannot hold CPU ${cpu}` +
            "; create it with max_entries of at least the number of possible CPUs",
        );
      }
    }
    const { name, fd: mapFd } = adoptMap(map, MapType.PERF_EVENT_ARRAY, "PerfReader");
    const rings: CpuRing[] = [];
    const page = pageSize();
    let reader: PerfReader;
    try {
      for (const cpu of cpus) {
        let event: FD;
        let countsLost: boolean;
        try {
          ({ event, countsLost } = openBpfOutputCountingLost(cpu, opts.wakeupEvents ?? 1));
        } catch (e) {
          // An offline CPU cannot have events; skip it unless the caller asked for it by name.
          if (!explicit && e instanceof SysError && e.errno === Errno.ENODEV) continue;
          throw e;
        }
        let mapping: ArrayBuffer | undefined;
        try {
          mapping = mmapPerfBuffer(event.fd, pages);
          const ring = new PerfRing(mapping, page, name, cpu);
          rings.push({ cpu, event, mapping, ring, countsLost, recorded: 0, reported: 0 });
        } catch (e) {
          if (mapping) munmap(mapping);
          event.close();
          throw e;
        }
      }
      if (rings.length === 0) {
        throw new ReaderOptionError(
          `perf event array "${name}": none of CPUs ${cpus.join(",")} is online; bring one online or name online CPUs in cpus`,
        );
      }
      // Watch the events before the program can write to them (see readiness.ts).
      reader = new PerfReader(name, mapFd, rings, opts);
      reader.untie = tieReader(map, reader);
    } catch (e) {
      release(mapFd, rings);
      throw e;
    }
    try {
      for (const { cpu, event } of rings) {
        mapUpdateElem(mapFd.fd, u8(new Uint32Array([cpu])), u8(new Uint32Array([event.fd])));
        perfEventEnable(event.fd);
      }
    } catch (e) {
      reader.close();
      throw e;
    }
    return reader;
  }

  /**
   * Samples reported lost on all CPUs since the reader was opened (after close(): every
   * sample the kernel dropped, when `lossExact`).
   */
  get totalLost(): number {
    return this.lostSoFar;
  }

  /**
   * Hand the previous batches back to the kernel, then return what is available now on each
   * CPU, without waiting: one batch per CPU that had samples or losses (possibly none). At
   * most `max` events in all; CPUs take turns being read first so none is starved.
   */
  readBatch(max = this.maxBatch): EventBatch[] {
    if (this.closed) throw new ReaderClosedError(this.name);
    const out: EventBatch[] = [];
    const n = this.rings.length;
    let left = max;
    for (let k = 0; k < n; k++) {
      const r = this.rings[(this.next + k) % n]!;
      if (left <= 0) {
        r.ring.commit();
        continue;
      }
      const events: Uint8Array[] = [];
      r.recorded += r.ring.read(left, this.copy, events).lost;
      left -= events.length;
      // A LOST record for drops the kernel's counter already told us of adds nothing.
      const lost = this.report(r, r.recorded);
      if (events.length > 0 || lost > 0) out.push({ map: this.name, cpu: r.cpu, events, lost });
    }
    this.next = (this.next + 1) % n;
    // Caught up: drops with no LOST record yet (nothing fitted since) come from the counters.
    if (out.length === 0) {
      for (const r of this.rings) {
        if (!r.countsLost) continue;
        const lost = this.report(r, perfEventLost(r.event.fd));
        if (lost > 0) out.push({ map: this.name, cpu: r.cpu, events: [], lost });
      }
    }
    return out;
  }

  /** Raise `r`'s reported losses to `seen` (never lower); returns how many are new. */
  private report(r: CpuRing, seen: number): number {
    const fresh = Math.max(0, seen - r.reported);
    r.reported += fresh;
    this.lostSoFar += fresh;
    return fresh;
  }

  /** Hand the last batches back to the kernel early (their views become invalid). */
  commit(): void {
    if (!this.closed) for (const r of this.rings) r.ring.commit();
  }

  /** Resolves when a CPU's ring has woken us (or the reader is closed); never blocks a thread. */
  wait(): Promise<void> {
    return this.readiness.wait();
  }

  /**
   * Batches (one per CPU with data) as they arrive; waits through libuv when all rings are
   * empty. A batch's views are released when the loop asks for the next batch. Ends when
   * close() is called; breaking out of the loop keeps the reader open.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<EventBatch, void, undefined> {
    let busy = false;
    try {
      while (!this.closed) {
        if (busy) await yieldToLoop(); // never starve timers and I/O under a steady stream
        if (this.closed) break;
        const batches = this.readBatch();
        busy = batches.length > 0;
        if (!busy) {
          await this.readiness.wait();
          continue;
        }
        for (const b of batches) {
          if (this.closed) return;
          yield b;
        }
      }
    } finally {
      this.commit();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stop waiting iterators, remove our events from the map, disable, unmap and close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.untie();
    this.readiness.close();
    // Out of the map and disabled, the counts are final: read them for totalLost.
    release(this.mapFd, this.rings, (r) => {
      if (r.countsLost) this.report(r, perfEventLost(r.event.fd));
    });
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function u8(a: Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Best-effort teardown: every step runs even if an earlier one fails. */
function release(mapFd: FD, rings: CpuRing[], last?: (r: CpuRing) => void): void {
  for (const r of rings) {
    const { cpu, event, mapping } = r;
    try {
      // The map would otherwise keep the event (and its ring) alive for the program to fill.
      mapDeleteElem(mapFd.fd, u8(new Uint32Array([cpu])));
    } catch {
      // already gone
    }
    try {
      perfEventDisable(event.fd);
    } catch {
      // closing below releases it anyway
    }
    try {
      last?.(r);
    } catch {
      // only bookkeeping
    }
    munmap(mapping);
    event.close();
  }
  mapFd.close();
}
