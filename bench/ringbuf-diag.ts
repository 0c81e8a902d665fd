// The ring buffer bench's diagnostic variants, each in a process of its own: run in the
// harness's process they would share the reader's callback call site with the measured
// consumer and run polymorphic (slower than they are). Prints one JSON line per run.
//
//   node dist/bench/ringbuf-diag.js --obj PATH --decode view|struct|dataview|none
//        [--api records|callback] [--events N] [--batch N] [--runs N] [--warm N]
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { RingbufBench } from "./ringbuf.js";
import type { DecodeVariant, ReadApi } from "./ringbuf-events.js";

const VARIANTS: readonly DecodeVariant[] = ["compiled", "view", "struct", "dataview", "none"];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      obj: { type: "string" },
      decode: { type: "string" },
      api: { type: "string", default: "callback" },
      events: { type: "string", default: "5000000" },
      batch: { type: "string", default: "65536" },
      runs: { type: "string", default: "5" },
      warm: { type: "string", default: "1000000" },
    },
    strict: true,
  });
  const decode = values.decode as DecodeVariant;
  if (values.obj === undefined) throw new Error("--obj is required");
  if (!VARIANTS.includes(decode))
    throw new Error(`--decode must be one of ${VARIANTS.join(", ")}, got ${values.decode}`);
  const api = values.api as ReadApi;
  if (api !== "records" && api !== "callback")
    throw new Error(`--api must be records or callback, got ${values.api}`);
  const [events, batch, runs, warm] = [values.events, values.batch, values.runs, values.warm].map(
    Number,
  ) as [number, number, number, number];
  using bench = await RingbufBench.open(values.obj);
  bench.batch(Math.min(events, warm), batch, decode, api);
  for (let r = 0; r < runs; r++) {
    const x = bench.batch(events, batch, decode, api);
    console.log(JSON.stringify({ ...x, checksum: x.checksum?.toString() }));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(`ringbuf-diag: ${(e as Error).message}`);
    process.exit(1);
  });
}
