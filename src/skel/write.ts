// Writing the skeleton of a compiled probe beside its object (`tsbpf build`).
import { writeFile } from "node:fs/promises";
import { relative } from "node:path";
import type { CompiledProbe } from "../compiler/index.js";
import type { Type } from "../types/type.js";
import { generateSkeleton } from "./generate.js";

/** Event map classes whose declared value type is the record of each event. */
const EVENT_CLASSES: ReadonlySet<string> = new Set(["PerfMap", "RingBuf"]);

/** The skeleton module's text for `compiled`, whose object is written to `elfPath`. */
export function skeletonText(
  elfPath: string,
  compiled: CompiledProbe,
  opts: { name: string; entry: string; cwd: string; embed?: boolean },
): string {
  const eventTypes = new Map<string, Type>();
  for (const m of compiled.maps)
    if (EVENT_CLASSES.has(m.cls) && m.value !== undefined) eventTypes.set(m.name, m.value);
  return generateSkeleton(compiled.elf, {
    name: opts.name,
    elfPath: relative(opts.cwd, elfPath),
    source: relative(opts.cwd, opts.entry),
    eventTypes,
    ...(opts.embed !== undefined && { embed: opts.embed }),
  });
}

/**
 * Writes `<elfPath minus .elf>.skel.ts`: the typed module of the object (see generate.ts).
 * Returns its path.
 */
export async function writeSkeleton(
  elfPath: string,
  compiled: CompiledProbe,
  opts: { name: string; entry: string; cwd: string; embed?: boolean },
): Promise<string> {
  const path = elfPath.replace(/\.elf$/, "") + ".skel.ts";
  await writeFile(path, skeletonText(elfPath, compiled, opts));
  return path;
}
