// Loading one side of a pair and measuring it: instruction slots in the object, instructions
// the verifier processed, ns/run under BPF_PROG_TEST_RUN, and what it did on every input
// (return value, events sent, map contents) so the two sides can be proven equal.
import { Collection } from "../../src/load/collection.js";
import { MapType } from "../../src/obj/consts.js";
import { parseObject } from "../../src/obj/object.js";
import type { Program } from "../../src/load/program.js";
import { PerfReader } from "../../src/reader/perf.js";
import { RingBufReader } from "../../src/reader/ringbuf.js";
import type { Input } from "./inputs.js";

/** A loaded side: the collection, its one program and readers for its event maps. */
export class LoadedSide implements Disposable {
  readonly coll: Collection;
  readonly prog: Program;
  /** instruction slots of the program in the ELF (with its subprograms) */
  readonly insns: number;
  readonly #perf: PerfReader[] = [];
  readonly #ring: RingBufReader[] = [];

  constructor(elf: Uint8Array, setup: Record<string, [Uint8Array, Uint8Array][]>) {
    const obj = parseObject(elf);
    if (obj.programs.length !== 1)
      throw new Error(`expected one program in the object, found ${obj.programs.length}`);
    this.insns = obj.programs[0]!.insns.length;
    this.coll = Collection.load(obj);
    try {
      this.prog = this.coll.programs.get(obj.programs[0]!.name)!;
      for (const [name, map] of this.coll.maps) {
        for (const [k, v] of setup[name] ?? []) map.set(k, v);
        if (map.type === MapType.PERF_EVENT_ARRAY)
          this.#perf.push(
            PerfReader.open(map, { copy: true, pageCount: 64, wakeupEvents: 1 << 20 }),
          );
        else if (map.type === MapType.RINGBUF)
          this.#ring.push(RingBufReader.open(map, { copy: true }));
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Instructions the verifier processed to accept the program (prog_info.verified_insns). */
  verifiedInsns(): number {
    return this.prog.info().verifiedInsns;
  }

  /** Drains every event map; returns the events as hex strings (map name first). */
  drain(): string[] {
    const out: string[] = [];
    for (const r of this.#perf)
      for (const b of r.readBatch())
        for (const e of b.events) out.push(`${b.map}:${Buffer.from(e).toString("hex")}`);
    for (const r of this.#ring)
      for (const e of r.readBatch()) out.push(`${r.name}:${Buffer.from(e).toString("hex")}`);
    return out.sort();
  }

  /** Drains every event map, dropping the events (between timed calls). */
  discard(): void {
    for (const r of this.#perf) r.readBatch();
    for (const r of this.#ring) r.consume(() => {});
  }

  /** Runs the program once on `data`: its return value and the events it sent. */
  runOnce(data: Uint8Array): { retval: number; events: string[] } {
    const r = this.prog.testRun({ data });
    return { retval: r.retval, events: this.drain() };
  }

  /**
   * Every key → value of the non-event maps, as hex. Per-CPU values are summed field-wise
   * (as u64 words) because the two sides may have run on different CPUs.
   */
  mapContents(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, map] of this.coll.maps) {
      if (map.type === MapType.PERF_EVENT_ARRAY || map.type === MapType.RINGBUF) continue;
      const rows: string[] = [];
      if (map.isPerCpu) {
        for (const [k, vs] of map.perCpu().entriesSync()) rows.push(`${hex(k)}=${sumWords(vs)}`);
      } else for (const [k, v] of map.entriesSync()) rows.push(`${hex(k)}=${hex(v)}`);
      out[name] = rows.sort();
    }
    return out;
  }

  /**
   * Average ns per run over `repeat` runs on `data`, in calls of at most `chunk` runs with the
   * event maps drained between calls (so events are really written, not dropped as "full").
   */
  nsPerRun(data: Uint8Array, repeat: number, chunk: number): number {
    let total = 0;
    let done = 0;
    while (done < repeat) {
      const n = Math.min(chunk, repeat - done);
      total += this.prog.testRun({ data, repeat: n }).duration * n;
      done += n;
      this.discard();
    }
    return total / repeat;
  }

  get hasEvents(): boolean {
    return this.#perf.length + this.#ring.length > 0;
  }

  close(): void {
    for (const r of this.#perf) r.close();
    for (const r of this.#ring) r.close();
    this.coll.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function sumWords(values: Uint8Array[]): string {
  const first = values[0];
  if (!first || first.length % 8 !== 0) return values.map(hex).join("|");
  const sums = new Array<bigint>(first.length / 8).fill(0n);
  for (const v of values) {
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let i = 0; i < sums.length; i++) sums[i]! += dv.getBigUint64(i * 8, true);
  }
  return sums.join(",");
}

/** One difference between the sides, described for a person. */
export interface Mismatch {
  input: string;
  what: string;
}

/**
 * Runs both sides on every input (in order) and compares return values, events and the final
 * map contents. An empty list means the programs behaved identically.
 */
export function compareBehaviour(ts: LoadedSide, c: LoadedSide, inputs: Input[]): Mismatch[] {
  const out: Mismatch[] = [];
  for (const input of inputs) {
    const a = ts.runOnce(input.data);
    const b = c.runOnce(input.data);
    if (a.retval !== b.retval)
      out.push({ input: input.name, what: `return value ${a.retval} (ts) vs ${b.retval} (c)` });
    if (a.events.join() !== b.events.join())
      out.push({
        input: input.name,
        what: `events [${a.events.join(" ")}] (ts) vs [${b.events.join(" ")}] (c)`,
      });
  }
  const ma = ts.mapContents();
  const mb = c.mapContents();
  for (const name of new Set([...Object.keys(ma), ...Object.keys(mb)])) {
    const x = (ma[name] ?? ["<no such map>"]).join(" ");
    const y = (mb[name] ?? ["<no such map>"]).join(" ");
    if (x !== y)
      out.push({ input: "(after all inputs)", what: `map ${name}: {${x}} (ts) vs {${y}} (c)` });
  }
  return out;
}
