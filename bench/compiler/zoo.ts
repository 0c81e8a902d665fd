// The public program zoo (issue 12): well-known eBPF programs whose C is published, ported to
// TypeScript in bench/compiler/zoo/<area>/programs/<name>.ts. Their C side is the published
// original, exported from its git tree and compiled by `scripts/build-zoo.sh` into .zoo/obj/
// (gitignored: nothing fetched or built from it is committed). `run.js --zoo` runs them in the
// same table as the 14 pairs of bench/compiler/programs/, after the same equal-behaviour
// check on inputs written for each program (crafted frames, contexts, map contents).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Input } from "./inputs.js";
import type { LoadOptions } from "./measure.js";
import { NET_ZOO } from "./zoo/net/index.js";

/** One zoo pair: a TS port in the repository, the original's C object from .zoo/obj/. */
export interface ZooEntry {
  /** table row */
  name: string;
  /** the original: project and file the C object is built from */
  origin: string;
  /** the TS port, relative to bench/compiler/zoo/ */
  ts: string;
  /** the object in .zoo/obj/ (scripts/build-zoo.sh names them) */
  cObject: string;
  /** the program of the C object (by function name) that the port reproduces */
  cProgram: string;
  /** the object's maps are pinned by name (pins go to a fresh directory per side) */
  pinned?: boolean;
  /** the section name the C program is loaded as, when its own is not one libbpf 1.x knows */
  cSection?: string;
  /** the inputs both sides run on, in order, before anything is timed */
  inputs(): Input[];
  /** map contents both sides start from, by map name */
  maps?: () => Record<string, [Uint8Array, Uint8Array][]>;
  /** the input ns/run is measured on */
  timed: string;
}

export const ZOO: readonly ZooEntry[] = [...NET_ZOO];

/** Where the zoo's sources and C objects are (the repository's .zoo/). */
export function zooDir(root: string): string {
  return join(root, ".zoo");
}

/** A zoo pair ready to build: the TS path and the C object, or why it cannot run here. */
export type ZooPair =
  | { entry: ZooEntry; ts: string; cElf: Uint8Array; cPath: string; load: LoadOptions }
  | { entry: ZooEntry; missing: string };

export function zooPairs(root: string): ZooPair[] {
  const obj = join(zooDir(root), "obj");
  return ZOO.map((entry) => {
    const cPath = join(obj, entry.cObject);
    if (!existsSync(cPath))
      return {
        entry,
        missing:
          `${cPath} is missing: run scripts/build-zoo.sh with the git directories of the ` +
          `originals (bench/compiler/README.md, "Zoo")`,
      };
    return {
      entry,
      ts: join(root, "bench/compiler/zoo", entry.ts),
      cElf: readFileSync(cPath),
      cPath,
      load: {
        program: entry.cProgram,
        ...(entry.pinned && { pinned: true }),
        ...(entry.cSection !== undefined && { section: entry.cSection }),
      },
    };
  });
}
