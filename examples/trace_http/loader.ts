// The HTTP tracer's own loader (RedBPF's bpf_example_loader, in TypeScript): attach the probe to
// an interface and print one line per request: `<client address> - <request line>`.
//
//   usage: loader IFACE ELF
import { existsSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { Loader, MapData } from "tsbpf";
import { RequestInfo } from "./shared.js";

const USAGE =
  "usage: loader IFACE ELF\n  attach the HTTP tracer in ELF to IFACE and print `IP - REQUEST LINE` per request";

/** The client address: IPv4 from RequestInfo (network order bytes), IPv6 from the packet. */
export function clientAddress(saddr: number, packet: Uint8Array): string {
  const etherType = packet.length >= 14 ? (packet[12]! << 8) | packet[13]! : 0;
  if (etherType === 0x86dd && packet.length >= 14 + 40) {
    const src = packet.subarray(14 + 8, 14 + 24);
    const words: string[] = [];
    for (let i = 0; i < 16; i += 2) words.push(((src[i]! << 8) | src[i + 1]!).toString(16));
    return compressIpv6(words);
  }
  return [saddr & 0xff, (saddr >>> 8) & 0xff, (saddr >>> 16) & 0xff, saddr >>> 24].join(".");
}

/** RFC 5952: the longest run (≥ 2) of zero groups becomes `::`. */
function compressIpv6(words: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return words.join(":");
  return `${words.slice(0, best).join(":")}::${words.slice(best + bestLen).join(":")}`;
}

/** The request line: the payload up to the first CRLF (or what there is of it). */
export function requestLine(payload: Uint8Array): string {
  let end = payload.indexOf(0x0d);
  if (end < 0 || payload[end + 1] !== 0x0a) end = payload.indexOf(0x0a);
  return Buffer.from(payload.subarray(0, end < 0 ? payload.length : end)).toString("latin1");
}

async function main(argv: string[]): Promise<number> {
  if (argv.length !== 2 || argv.some((a) => a === "-h" || a === "--help")) {
    console.error(USAGE);
    return 2;
  }
  const [iface, elf] = argv as [string, string];
  if (!(iface in networkInterfaces()) && !existsSync(`/sys/class/net/${iface}`)) {
    console.error(`error: no network interface named ${iface}`);
    return 1;
  }
  if (!existsSync(elf)) {
    console.error(`error: no such file: ${elf}`);
    return 1;
  }

  await using loaded = await Loader.create().xdp(iface).loadFile(elf);
  for (const { program } of loaded.links)
    console.log(`Loaded: ${program.name}, ${program.kindLabel}`);

  const stop = () => loaded.close(); // ends the loop below; links detach
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  for await (const { events, lost } of loaded.events) {
    if (lost) console.error(`(${lost} requests lost: the perf ring was full)`);
    for (const raw of events) {
      const { data, payload, offset } = MapData.decode(RequestInfo, raw);
      const packet = raw.subarray(
        MapData.headerSize(RequestInfo),
        MapData.headerSize(RequestInfo) + offset,
      );
      console.log(`${clientAddress(data.saddr, packet)} - ${requestLine(payload)}`);
    }
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(`error: ${(e as Error).message}`);
    process.exitCode = 1;
  },
);
