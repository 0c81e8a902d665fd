// Turning repeated measurements into the comparison table: medians, ratios against targets,
// and a plain-text table. Pure (no I/O), so it is unit-tested on its own.

/** How a ratio tsbpf/libbpf is judged: throughput wants ≥, time wants ≤. */
export interface Target {
  op: ">=" | "<=";
  value: number;
}

/** One line of the table. `ratio` is always tsbpf / libbpf; undefined where one side is missing. */
export interface Row {
  metric: string;
  unit: string;
  tsbpf: number;
  libbpf: number | undefined;
  ratio: number | undefined;
  /** undefined: informational row, no pass/fail */
  target: Target | undefined;
  pass: boolean | undefined;
  /** every run's value (tsbpf and libbpf), so the spread can be read back from results.json */
  runs: { tsbpf: number[]; libbpf: number[] };
  note?: string;
}

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of no values");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("mean of no values");
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Whether `ratio` meets `target`. */
export function meets(ratio: number, target: Target): boolean {
  return target.op === ">=" ? ratio >= target.value : ratio <= target.value;
}

/** A row from each side's runs: medians, their ratio, and the verdict when there is a target. */
export function compare(
  metric: string,
  unit: string,
  runs: { tsbpf: number[]; libbpf: number[] },
  target?: Target,
  note?: string,
): Row {
  const ts = median(runs.tsbpf);
  const c = runs.libbpf.length > 0 ? median(runs.libbpf) : undefined;
  const ratio = c !== undefined && c > 0 ? ts / c : undefined;
  return {
    metric,
    unit,
    tsbpf: ts,
    libbpf: c,
    ratio,
    target,
    pass: target && ratio !== undefined ? meets(ratio, target) : undefined,
    runs: { tsbpf: [...runs.tsbpf], libbpf: [...runs.libbpf] },
    ...(note !== undefined && { note }),
  };
}

/** 12345678 → "12.3 M", 0.815 → "0.815": three significant digits, SI suffix above 10⁴. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)} G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)} M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)} k`;
  if (a >= 100) return v.toFixed(0);
  return v.toPrecision(3);
}

export const TABLE_HEADER = ["metric", "tsbpf", "libbpf", "ratio", "target", "pass"] as const;

/** Pass marks: ✓ met, ✗ missed, – informational. */
export function mark(pass: boolean | undefined): string {
  return pass === undefined ? "–" : pass ? "✓" : "✗";
}

/** The cells of one row, as printed. */
export function cells(r: Row): string[] {
  return [
    `${r.metric} (${r.unit})`,
    formatValue(r.tsbpf),
    r.libbpf === undefined ? "–" : formatValue(r.libbpf),
    r.ratio === undefined ? "–" : `${r.ratio.toFixed(2)}×`,
    r.target ? `${r.target.op} ${r.target.value}×` : "–",
    mark(r.pass),
  ];
}

/**
 * A fixed-width table with a header, a rule, one line per row (columns separated by " | "),
 * then the notes of rows that have one. Numbers are right-aligned.
 */
export function formatTable(rows: readonly Row[]): string {
  const body = rows.map(cells);
  const all = [[...TABLE_HEADER], ...body];
  const widths = TABLE_HEADER.map((_, i) => Math.max(...all.map((r) => [...r[i]!].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => {
        const pad = " ".repeat(widths[i]! - [...c].length);
        return i === 0 ? c + pad : pad + c;
      })
      .join(" | ");
  const out = [line(all[0]!), widths.map((w) => "-".repeat(w)).join("-+-"), ...body.map(line)];
  const notes = rows.filter((r) => r.note !== undefined);
  if (notes.length > 0) out.push("", ...notes.map((r) => `${r.metric.trim()}: ${r.note}`));
  return out.join("\n");
}

/**
 * Parses the one JSON line a reference binary printed. Throws naming `what` when the output
 * is not exactly one JSON object.
 */
export function parseJsonLine(out: string, what: string): Record<string, unknown> {
  const lines = out.trim().split("\n");
  if (lines.length !== 1 || lines[0] === "")
    throw new Error(`${what} printed ${lines.length} lines instead of one JSON line:\n${out}`);
  let v: unknown;
  try {
    v = JSON.parse(lines[0]!);
  } catch (e) {
    throw new Error(`${what} printed a line that is not JSON (${(e as Error).message}): ${out}`, {
      cause: e,
    });
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Error(`${what} printed JSON that is not an object: ${out}`);
  return v as Record<string, unknown>;
}

/** A numeric field of a reference result, or an error naming the field and the output. */
export function numberField(r: Record<string, unknown>, field: string, what: string): number {
  const v = r[field];
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new Error(`${what}: field "${field}" is missing or not a number in ${JSON.stringify(r)}`);
  return v;
}

/** Σ value over N ring buffer events with value = 3·seq, seq = 0…N−1, wrapping at 2⁶⁴. */
export function ringbufChecksum(events: number): bigint {
  const n = BigInt(events);
  return BigInt.asUintN(64, (3n * n * (n - 1n)) / 2n);
}

/**
 * Σ value over `lookups` lookups of keys 0, 1, …, entries−1, 0, … with value = 7·key,
 * wrapping at 2⁶⁴ — what map_lookup.c and the JS loop both report.
 */
export function lookupChecksum(lookups: number, entries: number): bigint {
  const n = BigInt(lookups);
  const e = BigInt(entries);
  const full = n / e;
  const rest = n % e;
  const perRound = (7n * e * (e - 1n)) / 2n;
  return BigInt.asUintN(64, full * perRound + (7n * rest * (rest - 1n)) / 2n);
}
