// `map("lat", new Histogram({ slots, linear?, key?, maxEntries? }))`: a map whose value is a
// struct of bucket counts, laid out as src/inspect/hist.ts (classifyMap) reads it back —
// `struct { u64 slots[N]; }` for log2 buckets (libbpf-tools' `struct hist`), `struct { u64
// start; u64 step; u64 slots[N]; }` for linear ones. Unkeyed: a one-entry array map; keyed:
// a hash map. `record` is lowered by ../lower/histogram.ts.
import type ts from "typescript";
import { array, struct, u32, u64, type Type } from "../../types/index.js";
import { MapType } from "../../obj/consts.js";
import { Code, CompileError } from "../errors.js";
import type { MapDecl } from "./scan.js";

export interface HistSpec {
  slots: number;
  linear?: { start: bigint; step: bigint };
}

/** Largest value of a keyed histogram: the insert builds a zeroed value on the stack. */
const MAX_KEYED_VALUE = 256;
const MAX_SLOTS = 65;

export function scanHistogram(
  name: string,
  call: ts.CallExpression,
  optsNode: ts.Node | undefined,
  opts: unknown,
  isType: (v: unknown) => v is Type,
): MapDecl {
  const bad = (msg: string): never => {
    throw CompileError.at(optsNode ?? call, Code.BadApi, `Histogram "${name}": ${msg}`);
  };
  const o = (opts ?? {}) as {
    slots?: unknown;
    linear?: { start?: unknown; step?: unknown };
    key?: unknown;
    maxEntries?: unknown;
  };
  if (typeof o !== "object" || o === null) bad("options must be an object literal");
  const known = new Set(["slots", "linear", "key", "maxEntries"]);
  for (const k of Object.keys(o))
    if (!known.has(k)) bad(`unknown option "${k}" (options: slots, linear, key, maxEntries)`);
  const isInt = (v: unknown): v is number | bigint =>
    (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint";
  const slots = o.slots ?? (o.linear ? undefined : 32);
  if (typeof slots !== "number" || !Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS)
    bad(
      o.linear
        ? `a linear histogram needs slots: the bucket count (1 … ${MAX_SLOTS})`
        : `slots must be an integer 1 … ${MAX_SLOTS}`,
    );
  let linear: HistSpec["linear"];
  if (o.linear !== undefined) {
    const { start, step } = o.linear;
    if (!isInt(start) || !isInt(step) || BigInt(step) <= 0n)
      bad("linear needs integer start and a positive integer step: { start: 0, step: 10 }");
    linear = { start: BigInt(start as number), step: BigInt(step as number) };
  }
  const n = slots as number;
  const vname = `${name}_hist`;
  const value = linear
    ? struct(vname, { start: u64, step: u64, slots: array(u64, n) })
    : struct(vname, { slots: array(u64, n) });
  const hist: HistSpec = { slots: n, ...(linear ? { linear } : {}) };
  const base = { name, node: call, flags: 0, value, hist };
  if (o.key === undefined) {
    if (o.maxEntries !== undefined) bad("maxEntries is for keyed histograms (key: …)");
    return { ...base, cls: "ArrayMap", type: MapType.ARRAY, key: u32, maxEntries: 1 };
  }
  if (!isType(o.key)) bad("key must be a tsbpf/types type (u32, struct(…), array(u8, 16))");
  if (value.size > MAX_KEYED_VALUE)
    bad(
      `a keyed histogram's value (${value.size} bytes) is built on the stack when a key is new: at most ${(MAX_KEYED_VALUE - (linear ? 16 : 0)) / 8} slots`,
    );
  const me = o.maxEntries ?? 1024;
  if (typeof me !== "number" || !Number.isInteger(me) || me < 1 || me > 0xffffffff)
    bad("maxEntries must be a positive integer");
  return {
    ...base,
    cls: "HashMap",
    type: MapType.HASH,
    key: o.key as Type,
    maxEntries: me as number,
  };
}
