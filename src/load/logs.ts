// User space of probe logs (issue 14): the `tsbpf_log` ring buffer read and each record
// formatted with the object's `.tsbpf.log` formats (obj/log-section.ts); the level global
// rewritten at run time; the count of records lost to a full ring.
import type { Collection } from "./collection.js";
import { LoadError } from "./collection.js";
import { RingBufReader } from "../reader/ringbuf.js";
import {
  decodeLogRecord,
  LOG_DROPS_GLOBAL,
  LOG_LEVEL_SECTION,
  LOG_LEVELS,
  LOG_MAP,
  levelNumber,
  type LogFormat,
  type LogLevel,
  type LogLine,
} from "../obj/log-section.js";

/** A level name, "off" (0: nothing), or the number itself (1 error … 4 debug). */
export type LogLevelSetting = LogLevel | "off" | number;

function formatsOf(coll: Collection): LogFormat[] {
  const f = coll.object.logFormats;
  if (!f)
    throw new LoadError(
      "the object has no log calls (no .tsbpf.log section): log from the probe with log.info`…`",
    );
  return f;
}

/** Sets the highest level the probe emits, effective at once on every CPU. */
export function setLogLevel(coll: Collection, level: LogLevelSetting): void {
  formatsOf(coll);
  const n =
    level === "off" ? 0 : typeof level === "number" ? level : levelNumber(level as LogLevel);
  if (
    !Number.isInteger(n) ||
    n < 0 ||
    n > 0xffffffff ||
    (typeof level === "string" && n === 0 && level !== "off")
  )
    throw new LoadError(
      `log level ${String(level)}: give ${LOG_LEVELS.join(", ")}, "off" or a number (1 error … 4 debug)`,
    );
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, n, true);
  coll.map(LOG_LEVEL_SECTION).set(new Uint8Array(4) as never, v as never);
}

/** The level the probe emits now (1 error … 4 debug, 0 off). */
export function logLevel(coll: Collection): number {
  formatsOf(coll);
  const v = coll.map(LOG_LEVEL_SECTION).get(new Uint8Array(4) as never) as Uint8Array;
  return new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true);
}

/** Records the probe could not send because the ring buffer was full. */
export function logDrops(coll: Collection): bigint {
  formatsOf(coll);
  const spec = coll.object.maps.find((m) => m.name === ".bss");
  const at = spec?.global?.variables.find((v) => v.name === LOG_DROPS_GLOBAL);
  if (!spec || !at) throw new LoadError(`the object has no ${LOG_DROPS_GLOBAL} counter`);
  const v = coll.map(".bss").get(new Uint8Array(4) as never) as Uint8Array;
  return new DataView(v.buffer, v.byteOffset + at.offset, 8).getBigUint64(0, true);
}

/** A reader of the probe's log lines. Close it (or `using`) to stop iterating. */
export class LogReader implements AsyncIterable<LogLine>, Disposable {
  readonly #reader: RingBufReader;
  readonly #formats: LogFormat[];

  private constructor(reader: RingBufReader, formats: LogFormat[]) {
    this.#reader = reader;
    this.#formats = formats;
  }

  static open(coll: Collection): LogReader {
    const formats = formatsOf(coll);
    const m = coll.map(LOG_MAP);
    const reader = RingBufReader.open(
      { fd: m.fd, maxEntries: m.maxEntries, name: LOG_MAP, type: m.type },
      { copy: false },
    );
    return new LogReader(reader, formats);
  }

  /** Lines available now, without waiting. */
  read(): LogLine[] {
    const lines = this.#reader.readBatch().map((r) => decodeLogRecord(this.#formats, r));
    this.#reader.commit(); // decoded: give the space back to the probes now
    return lines;
  }

  /** Lines as they arrive, in the order the probes submitted them; ends at close(). */
  async *[Symbol.asyncIterator](): AsyncGenerator<LogLine, void, undefined> {
    for await (const { events } of this.#reader) {
      // decoded at once: the views are the ring's until the next read (read() included)
      const lines = events.map((r) => decodeLogRecord(this.#formats, r));
      yield* lines;
    }
  }

  close(): void {
    this.#reader.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
