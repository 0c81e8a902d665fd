// CPU sets from sysfs ("0-3,5,7-8"). Per-CPU maps size values by the *possible* CPUs;
// perf buffers open one event per *online* CPU.
import { readFileSync } from "node:fs";
import { TsbpfError } from "../errors.js";

/** More CPUs than any machine has; bounds what a malformed list can make us allocate. */
export const MAX_CPUS = 1 << 16;

export class CpuListError extends TsbpfError {
  override readonly name = "CpuListError";
}

/** Parses a kernel CPU list ("0-3,5,7-8\n") into sorted unique CPU numbers. */
export function parseCpuList(text: string): number[] {
  const body = text.trim();
  if (body === "") return [];
  const set = new Set<number>();
  for (const part of body.split(",")) {
    const m = /^(\d{1,6})(?:-(\d{1,6}))?$/.exec(part.trim());
    if (!m) throw new CpuListError(`malformed CPU list entry "${part}" in "${body}"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new CpuListError(`CPU range "${part}" is reversed`);
    if (hi >= MAX_CPUS)
      throw new CpuListError(`CPU ${hi} exceeds the supported maximum ${MAX_CPUS - 1}`);
    if (set.size + (hi - lo + 1) > MAX_CPUS)
      throw new CpuListError(`CPU list "${body}" is too long`);
    for (let c = lo; c <= hi; c++) set.add(c);
  }
  return [...set].sort((a, b) => a - b);
}

function readList(file: string): number[] {
  const path = `/sys/devices/system/cpu/${file}`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CpuListError(
      `cannot read the CPU list ${path} (is sysfs mounted at /sys?): ${(e as Error).message}`,
      { cause: e },
    );
  }
  return parseCpuList(text);
}

let possible: number[] | undefined;

/** CPUs that can ever be online. */
export function possibleCpus(): number[] {
  return (possible ??= readList("possible"));
}

/**
 * How many value slots a per-CPU map has: the kernel copies one slot per possible CPU
 * (num_possible_cpus(), for_each_possible_cpu), in CPU order.
 */
export function possibleCpuCount(): number {
  return Math.max(1, possibleCpus().length);
}

/** CPUs online right now (not cached: CPUs come and go). */
export function onlineCpus(): number[] {
  return readList("online");
}
