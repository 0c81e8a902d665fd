// Worker of the ELF fuzz campaign: builds inputs from[i] … to[i] (mutate.ts), parses each with
// parseObject, and for the ones that parse links every program and disassembles the object as
// `tsbpf disasm` does. Reports each input's outcome to run.ts, which watches for hangs.
import { parentPort, workerData } from "node:worker_threads";
import { parseObject } from "../../src/obj/object.js";
import { ObjectError } from "../../src/obj/errors.js";
import { disasmObject } from "../../src/cli/disasm.js";
import { mutant } from "./mutate.js";

export type Outcome =
  | { index: number; kind: "parsed" | "rejected"; ms: number }
  | { index: number; kind: "crash"; ms: number; error: string };

const { seeds, seed } = workerData as { seeds: Uint8Array[]; seed: number };
const port = parentPort!;

port.on("message", (m: { from: number; to: number }) => {
  for (let index = m.from; index < m.to; index++) {
    const bytes = mutant(seeds, seed, index);
    const t0 = performance.now();
    let out: Outcome;
    try {
      // Before each input: where a hang would be (run.ts saves that input).
      port.postMessage({ started: index });
      const obj = parseObject(bytes);
      disasmObject(obj);
      out = { index, kind: "parsed", ms: performance.now() - t0 };
    } catch (e) {
      const ms = performance.now() - t0;
      out =
        e instanceof ObjectError
          ? { index, kind: "rejected", ms }
          : { index, kind: "crash", ms, error: (e as Error)?.stack ?? String(e) };
    }
    port.postMessage(out);
  }
  port.postMessage({ done: m.to });
});
