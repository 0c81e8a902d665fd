// Logs from probes (`log.info\`conn from ${ip.saddr}\``, issue 14): the compiler stores each
// log call's format once, in the object's `.tsbpf.log` section; a record in the `tsbpf_log`
// ring buffer carries only the format id and the arguments' bytes. This module is the
// section's schema and the record decoder, pure (bytes in, text out), shared by the compiler
// (which writes the section) and user space (which formats the records).
//
// The section is UTF-8 JSON: `{ "version": 1, "formats": [LogFormat, …] }`, format i having
// id i. A record is `u64 id` then the arguments at the offsets the format gives, the whole
// record `size` bytes. Loaders that do not know the section (libbpf, bpftool) ignore it: it
// is not SHF_ALLOC.

import { TsbpfError } from "../errors.js";

/** The ring buffer map the compiler creates when a probe logs. */
export const LOG_MAP = "tsbpf_log";
/** The global (`.data.tsbpf_log`, a map of its own) holding the highest level emitted. */
export const LOG_LEVEL_GLOBAL = "tsbpf_log_level";
export const LOG_LEVEL_SECTION = ".data.tsbpf_log";
/** The `.bss` global counting records lost because the ring buffer was full. */
export const LOG_DROPS_GLOBAL = "tsbpf_log_drops";
export const LOG_SECTION = ".tsbpf.log";

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** error 1, warn 2, info 3, debug 4: a log is emitted when its number ≤ the level global. */
export const levelNumber = (l: LogLevel): number => LOG_LEVELS.indexOf(l) + 1;
/** The default level: info (debug logs cost one load and a branch until enabled). */
export const DEFAULT_LOG_LEVEL = 3;

/**
 * How an argument prints. `int`/`uint`: 8-byte signed/unsigned decimal; `hex`: 8 bytes as
 * 0x…; `ipv4`: a 4-byte host-order number as a dotted quad; `ipv6`: 16 network-order bytes;
 * `mac`: 6 bytes; `str`: bytes up to the first NUL.
 */
export type LogArgKind = "int" | "uint" | "hex" | "ipv4" | "ipv6" | "mac" | "str";

export interface LogArg {
  kind: LogArgKind;
  offset: number;
  size: number;
}

export interface LogFormat {
  level: LogLevel;
  /** the template's literal parts: one more than the arguments */
  text: string[];
  args: LogArg[];
  /** record size in bytes (a multiple of 8) */
  size: number;
  /** where the call is: the probe file's base name and line */
  file: string;
  line: number;
}

export interface LogSection {
  version: 1;
  formats: LogFormat[];
}

export function encodeLogSection(formats: readonly LogFormat[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ version: 1, formats }));
}

/** A `.tsbpf.log` section or a log record that cannot be read: the object or the ring is not what it claims. */
export class LogSectionError extends TsbpfError {
  override readonly name = "LogSectionError";
}

const KINDS: ReadonlySet<string> = new Set(["int", "uint", "hex", "ipv4", "ipv6", "mac", "str"]);

/** Parse and check a `.tsbpf.log` section; throws LogSectionError naming what is wrong. */
export function decodeLogSection(bytes: Uint8Array): LogFormat[] {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new LogSectionError(`${LOG_SECTION}: not UTF-8 JSON (${(e as Error).message})`);
  }
  const s = v as Partial<LogSection>;
  if (typeof s !== "object" || s === null || s.version !== 1 || !Array.isArray(s.formats))
    throw new LogSectionError(`${LOG_SECTION}: expected { version: 1, formats: [...] }`);
  return s.formats.map((f, i) => {
    const bad = (what: string): never => {
      throw new LogSectionError(`${LOG_SECTION}: format ${i}: ${what}`);
    };
    if (typeof f !== "object" || f === null) bad("not an object");
    if (!LOG_LEVELS.includes(f.level)) bad(`unknown level ${String(f.level)}`);
    if (!Array.isArray(f.text) || !f.text.every((t) => typeof t === "string")) bad("text");
    if (!Array.isArray(f.args) || f.text.length !== f.args.length + 1) bad("args");
    if (!Number.isInteger(f.size) || f.size < 8 || f.size > 65536) bad("size");
    for (const a of f.args)
      if (
        typeof a !== "object" ||
        a === null ||
        !KINDS.has(a.kind) ||
        !Number.isInteger(a.offset) ||
        !Number.isInteger(a.size) ||
        a.offset < 8 ||
        a.size < 1 ||
        a.offset + a.size > f.size
      )
        bad(`argument ${JSON.stringify(a)}`);
    return {
      level: f.level,
      text: f.text,
      args: f.args,
      size: f.size,
      file: String(f.file ?? ""),
      line: Number(f.line ?? 0),
    };
  });
}

/** One decoded log record. */
export interface LogLine {
  level: LogLevel;
  /** the formatted message */
  message: string;
  /** where the call is in the probe */
  file: string;
  line: number;
}

const hex2 = (b: number) => b.toString(16).padStart(2, "0");

function ipv6Text(b: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  // IPv4-mapped ::ffff:a.b.c.d
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff)
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  // the longest run of two or more zero words becomes :: (RFC 5952)
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** An argument's bytes as text. */
export function formatLogArg(kind: LogArgKind, b: Uint8Array): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (kind) {
    case "int":
      return dv.getBigInt64(0, true).toString();
    case "uint":
      return dv.getBigUint64(0, true).toString();
    case "hex":
      return `0x${dv.getBigUint64(0, true).toString(16)}`;
    case "ipv4": {
      const n = dv.getUint32(0, true);
      return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    }
    case "ipv6":
      return ipv6Text(b);
    case "mac":
      return Array.from(b.subarray(0, 6), hex2).join(":");
    case "str": {
      const end = b.indexOf(0);
      return new TextDecoder().decode(b.subarray(0, end < 0 ? b.length : end));
    }
  }
}

/** Decode one ring buffer record; throws LogSectionError for an unknown id or a short record. */
export function decodeLogRecord(formats: readonly LogFormat[], rec: Uint8Array): LogLine {
  if (rec.byteLength < 8) throw new LogSectionError(`log record of ${rec.byteLength} bytes`);
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const id = dv.getUint32(0, true);
  const f = formats[id];
  if (!f) throw new LogSectionError(`log record with unknown format id ${id}`);
  if (rec.byteLength < f.size)
    throw new LogSectionError(`log record ${id} has ${rec.byteLength} bytes, expected ${f.size}`);
  let message = f.text[0]!;
  f.args.forEach((a, i) => {
    message += formatLogArg(a.kind, rec.subarray(a.offset, a.offset + a.size)) + f.text[i + 1]!;
  });
  return { level: f.level, message, file: f.file, line: f.line };
}

/** `[INFO] message`, as `tsbpf load` prints a log line. */
export function logLineText(l: LogLine): string {
  return `[${l.level.toUpperCase()}] ${l.message}`;
}
