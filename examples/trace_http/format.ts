// What the trace_http loader prints, as pure functions of a MapData<RequestInfo> record: the
// client address and the HTTP request line. Kept apart from loader.ts so they can be tested
// without a kernel.

const ETH_HEADER = 14;
const ETH_P_IPV6 = 0x86dd;
/** offset of the source address in an IPv6 header */
const IPV6_SADDR = 8;

/** Dotted quad of an IPv4 address given as a number (10.0.0.1 is 0x0a000001). */
export function ipv4(addr: number): string {
  return [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff].join(".");
}

/** RFC 5952 text of a 16-byte IPv6 address: lower-case hex, the longest zero run as `::`. */
export function ipv6(bytes: Uint8Array): string {
  if (bytes.length !== 16)
    throw new RangeError(`an IPv6 address has 16 bytes, not ${bytes.length}`);
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  // Longest run of zero words; a single zero word is not compressed (RFC 5952 4.2.2).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/**
 * The client (source) address of a request. `frame` is the packet from its Ethernet header
 * on, as the probe sent it. RequestInfo carries IPv4 addresses only (0 for IPv6), so an IPv6
 * client's address is read from the frame.
 */
export function clientAddress(saddr: number, frame: Uint8Array): string {
  const etherType = frame.length >= ETH_HEADER ? (frame[12]! << 8) | frame[13]! : 0;
  const start = ETH_HEADER + IPV6_SADDR;
  if (etherType === ETH_P_IPV6 && frame.length >= start + 16)
    return ipv6(frame.subarray(start, start + 16));
  return ipv4(saddr);
}

/** The request line: the payload up to its first line break (CRLF or LF), or all of it. */
export function requestLine(payload: Uint8Array): string {
  let end = payload.indexOf(0x0a);
  if (end < 0) end = payload.length;
  else if (end > 0 && payload[end - 1] === 0x0d) end--;
  return Buffer.from(payload.buffer, payload.byteOffset, end).toString("latin1");
}
