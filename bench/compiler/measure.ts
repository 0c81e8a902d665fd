// Loading one side of a pair and measuring it: instruction slots in the object, instructions
// the verifier processed, ns/run under BPF_PROG_TEST_RUN, and what it did on every input
// (return value, events sent, map contents) so the two sides can be proven equal.
import { Collection } from "../../src/load/collection.js";
import { MapType } from "../../src/obj/consts.js";
import { parseObject } from "../../src/obj/object.js";
import { parseSectionName } from "../../src/obj/section.js";
import type { Program } from "../../src/load/program.js";
import { PerfReader } from "../../src/reader/perf.js";
import { RingBufReader } from "../../src/reader/ringbuf.js";
import { mkdtempSync, rmSync } from "node:fs";
import type { Input } from "./inputs.js";

/** How a side is loaded: which program of a multi-program object, and where its pins go. */
export interface LoadOptions {
  /** the program to run (by function name); required when the object has several */
  program?: string;
  /**
   * The object declares pinned maps (`pinning: LIBBPF_PIN_BY_NAME`, as xdp-tutorial's
   * stats map does): pin them in a fresh bpffs directory of this side, removed on close,
   * so the two sides never share a map.
   */
  pinned?: boolean;
  /**
   * Load the program as this section name says (`"xdp"`): for objects of a convention this
   * loader does not know, such as xdp-tutorial's `SEC("xdp_patch_ports")` (older libbpf and
   * xdp-loader took any `xdp` prefix).
   */
  section?: string;
}

/** A loaded side: the collection, its one program and readers for its event maps. */
export class LoadedSide implements Disposable {
  readonly coll: Collection;
  readonly prog: Program;
  /** instruction slots of the program in the ELF (with its subprograms) */
  readonly insns: number;
  readonly #perf: PerfReader[] = [];
  readonly #ring: RingBufReader[] = [];
  readonly #pinDir: string | undefined;

  constructor(
    elf: Uint8Array,
    setup: Record<string, [Uint8Array, Uint8Array][]>,
    opts: LoadOptions = {},
  ) {
    const obj = parseObject(elf);
    const spec =
      opts.program === undefined
        ? obj.programs.length === 1
          ? obj.programs[0]
          : undefined
        : obj.programs.find((p) => p.name === opts.program);
    if (!spec)
      throw new Error(
        opts.program === undefined
          ? `expected one program in the object, found ${obj.programs.length}`
          : `no program ${opts.program} in the object (${obj.programs.map((p) => p.name).join(", ")})`,
      );
    this.insns = spec.insns.length;
    if (opts.section !== undefined) {
      spec.sectionInfo = parseSectionName(opts.section);
      if (!spec.sectionInfo) throw new Error(`unknown section name ${opts.section}`);
    }
    this.#pinDir = opts.pinned ? mkdtempSync("/sys/fs/bpf/tsbpf-zoo-") : undefined;
    try {
      this.coll = Collection.load(obj, {
        programs: [spec.name],
        ...(this.#pinDir !== undefined && { pinPath: this.#pinDir }),
      });
    } catch (e) {
      if (this.#pinDir !== undefined) rmSync(this.#pinDir, { recursive: true, force: true });
      throw e;
    }
    try {
      this.prog = this.coll.programs.get(spec.name)!;
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

  /**
   * Runs the program once on `data` (with `ctx` as its context, if given): its return value,
   * the packet as it left the program, the context after the run and the events it sent.
   */
  runOnce(
    data: Uint8Array,
    ctx?: Uint8Array,
  ): { retval: number; events: string[]; data: string; ctx: string } {
    const r = this.prog.testRun({
      data,
      ...(ctx && { ctx, ctxOutSize: ctx.byteLength }),
    });
    return { retval: r.retval, events: this.drain(), data: hex(r.dataOut), ctx: hex(r.ctxOut) };
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
  nsPerRun(input: Input, repeat: number, chunk: number): number {
    const { data, ctx } = input;
    let total = 0;
    let done = 0;
    while (done < repeat) {
      const n = Math.min(chunk, repeat - done);
      total += this.prog.testRun({ data, ...(ctx && { ctx }), repeat: n }).duration * n;
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
    if (this.#pinDir !== undefined) rmSync(this.#pinDir, { recursive: true, force: true });
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
export function compareBehaviour(
  ts: LoadedSide,
  c: LoadedSide,
  inputs: Input[],
  portMapsOnly = false,
): Mismatch[] {
  const out: Mismatch[] = [];
  for (const input of inputs) {
    const a = ts.runOnce(input.data, input.ctx);
    const b = c.runOnce(input.data, input.ctx);
    if (a.retval !== b.retval)
      out.push({ input: input.name, what: `return value ${a.retval} (ts) vs ${b.retval} (c)` });
    if (a.data !== b.data)
      out.push({ input: input.name, what: `packet out ${a.data} (ts) vs ${b.data} (c)` });
    if (a.ctx !== b.ctx)
      out.push({ input: input.name, what: `context out ${a.ctx} (ts) vs ${b.ctx} (c)` });
    if (a.events.join() !== b.events.join())
      out.push({
        input: input.name,
        what: `events [${a.events.join(" ")}] (ts) vs [${b.events.join(" ")}] (c)`,
      });
  }
  const ma = ts.mapContents();
  const mb = c.mapContents();
  // A zoo original's object may hold maps (and .rodata strings) of its other programs: there
  // only the maps the port declares are compared, and each must exist on the C side.
  const names = portMapsOnly
    ? Object.keys(ma).filter((n) => !n.startsWith("."))
    : [...new Set([...Object.keys(ma), ...Object.keys(mb)])];
  for (const name of names) {
    const x = (ma[name] ?? ["<no such map>"]).join(" ");
    const y = (mb[name] ?? ["<no such map>"]).join(" ");
    if (x !== y)
      out.push({ input: "(after all inputs)", what: `map ${name}: {${x}} (ts) vs {${y}} (c)` });
  }
  return out;
}
