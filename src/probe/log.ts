// Logging from probes, in TypeScript's idiom: ``log.info`conn from ${ip.saddr} port ${p}` ``.
// The compiler (src/compiler/lower/log.ts) stores the format once in the object and sends a
// record of the format id and the arguments through a ring buffer it creates (`tsbpf_log`);
// user space formats it (`tsbpf load` prints it, `Loaded.logs()` streams it). A log whose
// level is above the level global (`tsbpf_log_level`, default info, changed at run time with
// `Loaded.setLogLevel`) costs one load and a branch.
import type { Ipv6Address, MacAddress } from "./context.js";
import { kernelOnly, unused } from "./kernel-only.js";

declare const logFormat: unique symbol;
/** An argument with an explicit format: `ipv4(x)`, `hex(x)`. */
export interface LogFormatted {
  readonly [logFormat]: "ipv4" | "hex";
}

/**
 * What a log argument may be: an integer (printed in decimal: signed, unsigned when it is a
 * u64 field), `ipv4(n)` / `hex(n)`, an IPv4 address read from a header (`ip.saddr`,
 * `arp.senderIp`: printed as a dotted quad), an IPv6 address or MAC address from a header, or
 * a `u8` array field (a string up to its first NUL, e.g. a `comm`). Constants (strings
 * included) are folded into the format when compiling.
 */
export type LogArg =
  number | bigint | boolean | string | LogFormatted | Ipv6Address | MacAddress | ArrayLike<number>;

/** A tagged template that logs at one level. */
export type LogTag = (text: TemplateStringsArray, ...args: LogArg[]) => void;

function tag(text: TemplateStringsArray, ...args: LogArg[]): void {
  unused(text, args);
  kernelOnly();
}

/** ``log.info`…` ``: levels error < warn < info < debug. */
export const log: {
  readonly error: LogTag;
  readonly warn: LogTag;
  readonly info: LogTag;
  readonly debug: LogTag;
} = { error: tag, warn: tag, info: tag, debug: tag };

/** Print a host-order number as an IPv4 address (10.0.0.1 is 0x0a000001). */
export function ipv4(addr: number): LogFormatted {
  void addr;
  return kernelOnly();
}

/** Print an integer in hexadecimal. */
export function hex(n: number | bigint): LogFormatted {
  void n;
  return kernelOnly();
}
