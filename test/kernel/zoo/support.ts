// Building and running the network zoo's TS ports (bench/compiler/zoo/net/programs) in kernel
// tests: compiled with tsbpf's build(), loaded, run on crafted frames by BPF_PROG_TEST_RUN.
// The expectations are written in the tests (reference models), not taken from the C
// originals, so these run in CI where the originals cannot be fetched.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "../../../src/cli/build.js";
import { formatDiagnostic } from "../../../src/compiler/errors.js";
import { Collection } from "../../../src/load/collection.js";
import type { Program } from "../../../src/load/program.js";
import type { BpfMap } from "../../../src/map/map.js";

export const PROGRAMS = fileURLToPath(
  new URL("../../../../bench/compiler/zoo/net/programs/", import.meta.url),
);

/** Compiles programs/<name>.ts; returns the ELF bytes (throws with the diagnostics). */
export async function buildPort(name: string): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-zoo-"));
  try {
    const r = await build([join(PROGRAMS, `${name}.ts`)], { outDir: dir });
    if (r.diagnostics.length > 0 || r.outputs.length !== 1)
      throw new Error(
        `${name}.ts does not compile:\n${r.diagnostics.map(formatDiagnostic).join("\n")}`,
      );
    return readFileSync(r.outputs[0]!.path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Port extends Disposable {
  coll: Collection;
  prog: Program;
  map(name: string): BpfMap;
  run(data: Uint8Array, ctx?: Uint8Array): { retval: number; out: Uint8Array; ctxOut: Uint8Array };
}

/** Builds and loads a port; its one program is `prog`. */
export async function loadPort(name: string): Promise<Port> {
  const coll = Collection.load(await buildPort(name));
  const prog = [...coll.programs.values()][0]!;
  return {
    coll,
    prog,
    map: (m) => {
      const x = coll.maps.get(m);
      if (!x) throw new Error(`${name}: no map ${m}`);
      return x;
    },
    run(data, ctx) {
      const r = prog.testRun({ data, ...(ctx && { ctx, ctxOutSize: ctx.byteLength }) });
      return { retval: r.retval, out: r.dataOut, ctxOut: r.ctxOut };
    },
    [Symbol.dispose]: () => coll.close(),
  };
}

/** Sum over CPUs of the u64 words of a per-CPU value. */
export function perCpuSum(values: Uint8Array[]): bigint[] {
  const n = values[0]!.length / 8;
  const out = new Array<bigint>(n).fill(0n);
  for (const v of values) {
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let i = 0; i < n; i++) out[i]! += dv.getBigUint64(8 * i, true);
  }
  return out;
}

export const XDP = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
