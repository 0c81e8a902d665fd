// Results of the compiler benchmark → ratios ours/clang, target verdicts and a text table.
// Pure (no I/O).
import type { Mismatch } from "./measure.js";

/** Per-program targets of issue 3: median ratio ≤ 1.0 and none above 1.3; build ≤ 2×. */
export const TARGETS = { median: 1.0, max: 1.3, build: 2.0 } as const;

export type Status = "ok" | "not-compilable" | "mismatch" | "error";

export interface PairResult {
  name: string;
  /** ELF section of the program (xdp, tc, socket) */
  section: string;
  status: Status;
  /** compiler diagnostics, load errors… (status ≠ ok) */
  error?: string;
  mismatches?: Mismatch[];
  /** the input ns/run was measured on */
  timedInput: string;
  inputsCompared: number;
  insns: { ts?: number; c?: number };
  verified: { ts?: number; c?: number };
  /** ns/run of each timing run */
  ns: { ts: number[]; c: number[] };
  buildMs: { tsCold: number[]; tsServer: number[]; tsWarm: number[]; clang: number[] };
}

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function ratio(ts: number | undefined, c: number | undefined): number | undefined {
  return ts === undefined || c === undefined || c === 0 ? undefined : ts / c;
}

export type Metric = "insns" | "verified" | "ns" | "buildCold" | "buildServer" | "buildWarm";
const BUILD_METRICS: readonly Metric[] = ["buildCold", "buildServer", "buildWarm"];

/** The value of a metric for each side (medians for repeated measurements). */
export function sides(r: PairResult, m: Metric): { ts?: number; c?: number } {
  switch (m) {
    case "insns":
      return r.insns;
    case "verified":
      return r.verified;
    case "ns":
      return { ts: median(r.ns.ts), c: median(r.ns.c) };
    case "buildCold":
      return { ts: median(r.buildMs.tsCold), c: median(r.buildMs.clang) };
    case "buildServer":
      return { ts: median(r.buildMs.tsServer), c: median(r.buildMs.clang) };
    case "buildWarm":
      return { ts: median(r.buildMs.tsWarm), c: median(r.buildMs.clang) };
  }
}

export interface Summary {
  metric: Metric;
  /** programs whose ratio counts (both sides built, loaded and behaved identically) */
  programs: number;
  median: number | undefined;
  max: number | undefined;
  worst: string | undefined;
  /** the verdict against TARGETS (build metrics: median ≤ 2) */
  pass: boolean | undefined;
}

export function summarize(results: readonly PairResult[], m: Metric): Summary {
  const rs: [string, number][] = [];
  for (const r of results) {
    if (r.status !== "ok") continue;
    const { ts, c } = sides(r, m);
    const x = ratio(ts, c);
    if (x !== undefined) rs.push([r.name, x]);
  }
  const med = median(rs.map(([, x]) => x));
  let worst: [string, number] | undefined;
  for (const e of rs) if (!worst || e[1] > worst[1]) worst = e;
  const build = BUILD_METRICS.includes(m);
  const pass =
    med === undefined
      ? undefined
      : build
        ? med <= TARGETS.build
        : med <= TARGETS.median && worst![1] <= TARGETS.max;
  return { metric: m, programs: rs.length, median: med, max: worst?.[1], worst: worst?.[0], pass };
}

const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined ? "–" : digits === 0 && v >= 100 ? v.toFixed(0) : v.toFixed(digits);
const fmtRatio = (v: number | undefined): string => (v === undefined ? "–" : v.toFixed(2));
/** ✓ within the per-program bound (≤ 1.3), ✗ above it. */
const mark = (v: number | undefined): string =>
  v === undefined ? " " : v <= TARGETS.max ? "✓" : "✗";

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? "")].length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const LABELS: Record<Metric, string> = {
  insns: "instructions (ELF slots)",
  verified: "verifier processed insns",
  ns: "ns/run (BPF_PROG_TEST_RUN)",
  buildCold: "build wall time, cold tsbpf process vs clang",
  buildServer: "build wall time, tsbpf build served by the build server vs clang",
  buildWarm: "build wall time, warm in-process build() vs clang",
};

/** Table columns; the unnamed ones hold ✓/✗ marks against the per-program bound. */
export const COLUMNS = [
  "program",
  "type",
  "insns ts",
  "c",
  "ratio",
  "",
  "verified ts",
  "c",
  "ratio",
  "",
  "ns/run ts",
  "c",
  "ratio",
  "",
  "build ms ts",
  "server",
  "warm",
  "clang",
  "ratio",
  "ratio srv",
  "same",
] as const;

/** The table: one line per program, then the summary against the targets. */
export function formatTable(results: readonly PairResult[]): string {
  const rows: string[][] = [[...COLUMNS]];
  const notes: string[] = [];
  for (const r of results) {
    const row = [r.name, r.section];
    for (const m of ["insns", "verified", "ns"] as const) {
      const s = sides(r, m);
      const x = r.status === "ok" ? ratio(s.ts, s.c) : undefined;
      row.push(fmt(s.ts, m === "ns" ? 1 : 0), fmt(s.c, m === "ns" ? 1 : 0), fmtRatio(x), mark(x));
    }
    const b = sides(r, "buildCold");
    const srv = sides(r, "buildServer");
    row.push(
      fmt(b.ts),
      fmt(srv.ts),
      fmt(median(r.buildMs.tsWarm)),
      fmt(b.c),
      fmtRatio(r.status === "ok" ? ratio(b.ts, b.c) : undefined),
      fmtRatio(r.status === "ok" ? ratio(srv.ts, srv.c) : undefined),
    );
    row.push(r.status === "ok" ? "✓" : r.status === "mismatch" ? "✗" : "–");
    rows.push(row);
    if (r.status === "not-compilable")
      notes.push(`${r.name}: not yet compilable:\n${indent(r.error)}`);
    else if (r.status === "error") notes.push(`${r.name}: ${r.error}`);
    else if (r.status === "mismatch")
      notes.push(
        `${r.name}: the two sides behave differently, ratios left out:\n` +
          indent(r.mismatches!.map((m) => `${m.input}: ${m.what}`).join("\n")),
      );
  }
  const lines = [pad(rows), ""];
  for (const m of ["insns", "verified", "ns"] as const) {
    const s = summarize(results, m);
    lines.push(
      `${LABELS[m]}: median ratio ${fmtRatio(s.median)} (target ≤ ${TARGETS.median.toFixed(1)}), ` +
        `max ${fmtRatio(s.max)}${s.worst ? ` (${s.worst})` : ""} (target ≤ ${TARGETS.max}), ` +
        `${s.programs} programs ${verdict(s.pass)}`,
    );
  }
  for (const m of BUILD_METRICS) {
    const s = summarize(results, m);
    lines.push(
      `${LABELS[m]}: median ratio ${fmtRatio(s.median)} (target ≤ ${TARGETS.build.toFixed(1)}), ` +
        `max ${fmtRatio(s.max)} ${verdict(s.pass)}`,
    );
  }
  if (notes.length > 0) lines.push("", ...notes);
  return lines.join("\n");
}

const verdict = (p: boolean | undefined): string => (p === undefined ? "–" : p ? "✓" : "✗");
const indent = (s: string | undefined): string =>
  (s ?? "")
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
