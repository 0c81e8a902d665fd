// Which capabilities this process has, so a refusal can name the one that is missing instead
// of "needs root". Read from /proc/self/status (CapEff), only when an error is being explained.
import { readFileSync } from "node:fs";

/** Capability numbers (linux/capability.h) the loader's operations need. */
export const Cap = {
  DAC_OVERRIDE: 1,
  DAC_READ_SEARCH: 2,
  NET_ADMIN: 12,
  SYS_ADMIN: 21,
  SYS_RESOURCE: 24,
  PERFMON: 38,
  BPF: 39,
} as const;
export type Cap = (typeof Cap)[keyof typeof Cap];

const NAMES = new Map<number, string>(Object.entries(Cap).map(([k, v]) => [v, `CAP_${k}`]));

/** "CAP_NET_ADMIN" for 12. */
export function capName(cap: number): string {
  return NAMES.get(cap) ?? `capability ${cap}`;
}

/** The effective capability set, or undefined where /proc does not say (not Linux). */
export function effectiveCaps(status?: string): bigint | undefined {
  let text = status;
  if (text === undefined)
    try {
      text = readFileSync("/proc/self/status", "utf8");
    } catch {
      return undefined;
    }
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(text);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/**
 * Whether this kernel knows CAP_BPF and CAP_PERFMON (5.8+). Older kernels want CAP_SYS_ADMIN
 * for everything the two split off.
 */
export function hasSplitBpfCaps(lastCap?: number): boolean {
  let last = lastCap;
  if (last === undefined)
    try {
      last = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
    } catch {
      return true;
    }
  return last >= Cap.BPF;
}

/**
 * Which of `needed` this process lacks, by name (CAP_SYS_ADMIN standing in for CAP_BPF and
 * CAP_PERFMON on kernels before 5.8). Empty when it has them all or when it cannot tell.
 */
export function missingCaps(
  needed: readonly Cap[],
  caps: bigint | undefined = effectiveCaps(),
  split: boolean = hasSplitBpfCaps(),
): string[] {
  if (caps === undefined) return [];
  const has = (c: number) => (caps & (1n << BigInt(c))) !== 0n;
  const out: string[] = [];
  for (const c of needed) {
    const cap = !split && (c === Cap.BPF || c === Cap.PERFMON) ? Cap.SYS_ADMIN : c;
    if (!has(cap) && !out.includes(capName(cap))) out.push(capName(cap));
  }
  return out;
}
