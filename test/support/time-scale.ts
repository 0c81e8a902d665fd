// How much slower than the development machine this one runs the tests. The VM runner sets
// TSBPF_TIME_SCALE for guests under qemu TCG (scripts/vm/run.js says what it measured);
// tests multiply their waits and the size of their load bursts by it, never what they assert
// about behaviour.

/** TSBPF_TIME_SCALE (a number >= 1), 1 when unset. */
export function timeScale(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TSBPF_TIME_SCALE;
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 1)
    throw new Error(`TSBPF_TIME_SCALE must be a number >= 1 (a slowdown factor), not "${raw}"`);
  return n;
}

/** `ms` stretched by the time scale: a wait that is generous here stays generous there. */
export function scaled(ms: number): number {
  return Math.round(ms * timeScale());
}
