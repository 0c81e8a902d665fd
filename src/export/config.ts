// The exporter config file: JSON (`.json`) or YAML (`.yaml`/`.yml`, through the optional
// `yaml` package). Checked field by field: an unknown key, a wrong type or a bad name is an
// ExportError naming the metric and the key, never a metric silently missing.
import { readFileSync } from "node:fs";
import { ExportError } from "./errors.js";
import type { BucketSpec, ExporterConfig, LabelSpec, MetricSpec } from "./spec.js";

export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function keys(o: Obj, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw new ExportError(`${where}: unknown key "${k}" (allowed: ${allowed.join(", ")})`);
}

function str(o: Obj, k: string, where: string, required = true): string | undefined {
  const v = o[k];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "string" || v === "")
    throw new ExportError(`${where}: "${k}" must be a non-empty string`);
  return v;
}

function num(
  o: Obj,
  k: string,
  where: string,
  required: boolean,
  int: boolean,
): number | undefined {
  const v = o[k];
  if (v === undefined && !required) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || (int && (!Number.isInteger(v) || v < 0)))
    throw new ExportError(
      `${where}: "${k}" must be ${int ? "a non-negative integer" : "a finite number"}`,
    );
  return v;
}

function label(v: unknown, where: string): LabelSpec {
  if (!isObj(v)) throw new ExportError(`${where}: a label is { name, field?, decode? }`);
  keys(v, ["name", "field", "decode"], where);
  const name = str(v, "name", where)!;
  const field = str(v, "field", where, false);
  const decode = v.decode;
  if (
    decode !== undefined &&
    typeof decode !== "string" &&
    !(isObj(decode) && isObj(decode.enum) && Object.keys(decode).length === 1)
  )
    throw new ExportError(`${where}: "decode" must be a decoder name or { enum: { value: name } }`);
  return {
    name,
    ...(field !== undefined && { field }),
    ...(decode !== undefined && { decode: decode as LabelSpec["decode"] & object }),
  };
}

function buckets(v: unknown, where: string): BucketSpec {
  if (!isObj(v))
    throw new ExportError(`${where}: "buckets" must be { type, max, min?, width?, multiplier? }`);
  keys(v, ["type", "max", "min", "width", "multiplier"], where);
  const type = v.type;
  if (type !== "log2" && type !== "linear")
    throw new ExportError(`${where}: buckets.type must be "log2" or "linear"`);
  const max = num(v, "max", where, true, true)!;
  const min = num(v, "min", where, false, true);
  const width = num(v, "width", where, type === "linear", false);
  const multiplier = num(v, "multiplier", where, false, false);
  return {
    type,
    max,
    ...(min !== undefined && { min }),
    ...(width !== undefined && { width }),
    ...(multiplier !== undefined && { multiplier }),
  };
}

/** Checks a parsed config (any JSON value) and returns it typed. */
export function checkConfig(raw: unknown, source = "config"): ExporterConfig {
  if (!isObj(raw) || !Array.isArray(raw.metrics))
    throw new ExportError(`${source}: expected { metrics: [ … ] } at the top level`);
  keys(raw, ["metrics"], source);
  const metrics: MetricSpec[] = raw.metrics.map((m: unknown, i: number): MetricSpec => {
    const at = `${source}: metrics[${i}]`;
    if (!isObj(m)) throw new ExportError(`${at}: a metric is an object`);
    const name = typeof m.name === "string" ? m.name : undefined;
    const where = name ? `${source}: metric ${name}` : at;
    const type = m.type;
    const common = ["name", "type", "help", "unit", "map", "labels", "value"];
    if (type === "histogram") keys(m, [...common, "bucket", "buckets", "sum"], where);
    else if (type === "counter" || type === "gauge") keys(m, common, where);
    else throw new ExportError(`${where}: "type" must be counter, gauge or histogram`);
    const labels = m.labels;
    if (labels !== undefined && !Array.isArray(labels))
      throw new ExportError(`${where}: "labels" must be a list`);
    const unit = str(m, "unit", where, false);
    const value = str(m, "value", where, false);
    const base = {
      name: str(m, "name", where)!,
      help: str(m, "help", where)!,
      map: str(m, "map", where)!,
      labels: (labels ?? []).map((l: unknown, j: number) => label(l, `${where}: labels[${j}]`)),
      ...(unit !== undefined && { unit }),
      ...(value !== undefined && { value }),
    };
    if (type !== "histogram") return { type, ...base };
    const sum = m.sum;
    if (sum !== undefined && sum !== "bucket" && sum !== "none")
      throw new ExportError(`${where}: "sum" must be "bucket" or "none"`);
    return {
      type,
      ...base,
      bucket: str(m, "bucket", where)!,
      buckets: buckets(m.buckets, where),
      ...(sum !== undefined && { sum }),
    };
  });
  return { metrics };
}

/** Reads and checks a config file (.json, .yaml, .yml). */
export async function readConfig(path: string): Promise<ExporterConfig> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ExportError(`cannot read the exporter config ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  if (/\.ya?ml$/i.test(path)) {
    const { parse } = await optionalImport<typeof import("yaml")>("yaml", "YAML configs");
    try {
      raw = parse(text);
    } catch (e) {
      throw new ExportError(`${path}: not valid YAML: ${(e as Error).message}`);
    }
  } else {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ExportError(
        `${path}: not valid JSON: ${(e as Error).message} (YAML files end in .yaml or .yml)`,
      );
    }
  }
  return checkConfig(raw, path);
}

/**
 * Imports an optional dependency (package.json's optionalDependencies): the core library never
 * loads these; only the exporter does, and says what to install when one is missing.
 */
export async function optionalImport<T>(pkg: string, forWhat: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND")
      throw new ExportError(
        `${forWhat} need the optional package ${pkg}, which is not installed: npm install ${pkg} (or install tsbpf without --omit=optional)`,
      );
    throw e;
  }
}
