// The JS side of the load+attach bench, replicating load_attach.c: per iteration
// Collection.loadFile (read + parse + create every map + load every program) → attach one
// program (as its section says, or XDP on --iface through a bpf_link) → close the link and
// the collection. Run directly it is a command with load_attach's options and output, so the
// harness can run it inside a network namespace (`ip netns exec NS node load-attach.js …`):
//
//   node dist/bench/load-attach.js [--obj PATH] [--prog NAME] [--iterations N]
//                                  [--warmup N] [--iface IFNAME]
import { basename } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Collection, attachXdp, type Link, type Program } from "tsbpf";
import { mean, median } from "./report.js";

export interface LoadAttachOptions {
  obj: string;
  /** default: the object's first program */
  prog?: string;
  iterations: number;
  /** untimed iterations first, so V8 has compiled the loader when timing starts */
  warmup: number;
  /** attach XDP to this interface instead of where the section says */
  iface?: string;
}

/** load_attach's output fields (milliseconds). */
export interface LoadAttachResult {
  object: string;
  program: string;
  attach: "sec" | "xdp";
  iterations: number;
  mean_ms: number;
  median_ms: number;
  min_ms: number;
  max_ms: number;
  open_load_mean_ms: number;
  open_load_median_ms: number;
  detach_mean_ms: number;
  detach_median_ms: number;
}

function pick(coll: Collection, name: string | undefined): Program {
  if (name !== undefined) return coll.program(name);
  const first = coll.programs.values().next();
  if (first.done) throw new Error("load+attach bench: the object has no programs");
  return first.value;
}

/** One iteration's times in ms: open+load, open+load+attach, detach+close. */
async function once(
  o: LoadAttachOptions,
): Promise<{ load: number; attach: number; detach: number; program: string }> {
  const t0 = performance.now();
  const coll = await Collection.loadFile(o.obj);
  let link: Link | undefined;
  try {
    const tl = performance.now();
    const prog = pick(coll, o.prog);
    link = o.iface === undefined ? prog.attach() : attachXdp(prog, o.iface);
    const t1 = performance.now();
    link.close();
    coll.close();
    const t2 = performance.now();
    return { load: tl - t0, attach: t1 - t0, detach: t2 - t1, program: prog.name };
  } finally {
    link?.close();
    coll.close();
  }
}

export async function loadAttach(o: LoadAttachOptions): Promise<LoadAttachResult> {
  if (!Number.isInteger(o.iterations) || o.iterations < 1)
    throw new RangeError(
      `load+attach bench: iterations must be a positive integer, got ${o.iterations}`,
    );
  for (let i = 0; i < o.warmup; i++) await once(o);
  const load: number[] = [];
  const attach: number[] = [];
  const detach: number[] = [];
  let program = "";
  for (let i = 0; i < o.iterations; i++) {
    const r = await once(o);
    load.push(r.load);
    attach.push(r.attach);
    detach.push(r.detach);
    program = r.program;
  }
  return {
    object: basename(o.obj),
    program,
    attach: o.iface === undefined ? "sec" : "xdp",
    iterations: o.iterations,
    mean_ms: mean(attach),
    median_ms: median(attach),
    min_ms: Math.min(...attach),
    max_ms: Math.max(...attach),
    open_load_mean_ms: mean(load),
    open_load_median_ms: median(load),
    detach_mean_ms: mean(detach),
    detach_median_ms: median(detach),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      obj: { type: "string", default: "test/fixtures/obj/tp_openat.o" },
      prog: { type: "string" },
      iterations: { type: "string", default: "20" },
      warmup: { type: "string", default: "3" },
      iface: { type: "string" },
    },
    strict: true,
  });
  const r = await loadAttach({
    obj: values.obj,
    iterations: Number(values.iterations),
    warmup: Number(values.warmup),
    ...(values.prog !== undefined && { prog: values.prog }),
    ...(values.iface !== undefined && { iface: values.iface }),
  });
  console.log(JSON.stringify({ bench: "load_attach", impl: "tsbpf", ...r }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(`load-attach: ${(e as Error).message}`);
    process.exit(1);
  });
}
