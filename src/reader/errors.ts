// Errors raised by the event readers. Ring memory is shared with the kernel (or, in tests,
// arbitrary bytes), so every position and length read from it is validated; anything
// inconsistent stops the batch with a RingCorruptError instead of crashing, looping or
// allocating according to a bogus length.

import { TsbpfError, userErrorClass } from "../errors.js";

/** Which ring a reader error is about. */
export interface RingLocation {
  /** the map's name (or a label given by the caller) */
  map: string;
  /** the CPU of a perf ring; absent for a BPF ring buffer */
  cpu?: number;
  /** the ring position (bytes since the ring was created) where the problem was seen */
  position?: bigint;
}

/**
 * The ring's positions or record headers contradict each other (producer behind consumer,
 * a record longer than the data written, a zero-length perf record…). The kernel never
 * produces this; seeing it means the mapping is not what the reader thinks it is (wrong
 * map type or size) or someone else writes the consumer position. The reader stops the
 * batch without advancing past the bad record; close and reopen the reader to recover.
 */
export class RingCorruptError extends TsbpfError {
  override readonly name = "RingCorruptError";
  readonly map: string;
  readonly cpu?: number;
  readonly position?: bigint;
  /** the inconsistency, without the location prefix */
  readonly detail: string;

  constructor(detail: string, where: RingLocation) {
    const cpu = where.cpu === undefined ? "" : ` cpu ${where.cpu}`;
    const pos = where.position === undefined ? "" : ` at position ${where.position}`;
    super(
      `corrupt ring of map "${where.map}"${cpu}${pos}: ${detail}` +
        " (is the map of the right type and size, and is this the only consumer?)",
    );
    this.detail = detail;
    this.map = where.map;
    if (where.cpu !== undefined) this.cpu = where.cpu;
    if (where.position !== undefined) this.position = where.position;
  }
}

/**
 * A reader option that cannot be used (a page count that is not a power of two, an empty or
 * offline CPU list …). The message names the map, the option and the values it accepts.
 */
export class ReaderOptionError extends RangeError {
  override readonly name = "ReaderOptionError";
}
userErrorClass(ReaderOptionError);

/** A reader was used after close(). */
export class ReaderClosedError extends TsbpfError {
  override readonly name = "ReaderClosedError";
  constructor(map: string) {
    super(`event reader of map "${map}" is closed; open a new reader to read more events`);
  }
}

/**
 * Throws a ReaderOptionError unless `value` (option `option` of map `map`) is an integer from 1
 * to `max`.
 */
export function checkCountOption(
  map: string,
  option: string,
  value: number | undefined,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 1 || value > max)
    throw new ReaderOptionError(
      `event reader of map "${map}": ${option} must be an integer from 1 to ${max}, got ${String(value)}`,
    );
}
