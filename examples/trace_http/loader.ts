// The HTTP tracer's own loader (RedBPF's bpf_example_loader, in TypeScript): attach the probe
// to an interface and print one line per request, `<client address> - <request line>`.
//
//   usage: loader IFACE ELF
//
// Works with both variants of the probe: probe.ts (perf event array; the kernel counts the
// events it drops when a CPU's ring is full) and probe_ringbuf.ts (ring buffer; the probe
// counts the records it could not reserve in its `dropped` global). Losses go to stderr as
// `lost N requests: …`. Ctrl-C (or SIGTERM) detaches the probe and exits 0.
import { existsSync } from "node:fs";
import { Loader, MapData, type Loaded } from "tsbpf";
import { RequestInfo } from "./shared.js";
import { clientAddress, requestLine } from "./format.js";

const USAGE = `usage: loader IFACE ELF
  Attach the HTTP tracer in ELF (built by \`tsbpf build\`) to the network interface IFACE and
  print \`CLIENT-ADDRESS - REQUEST-LINE\` for every HTTP request it sees, until Ctrl-C.`;

const HEADER = MapData.headerSize(RequestInfo);

/** The probe's own count of dropped records (a `dropped` u64 global), if it keeps one. */
function droppedCounter(loaded: Loaded): (() => bigint) | undefined {
  for (const spec of loaded.collection.object.maps) {
    const v = spec.global?.variables.find((x) => x.name === "dropped" && x.size === 8);
    if (!v) continue;
    const map = loaded.map(spec.name);
    return () => {
      const value = map.get(new Uint8Array(4));
      return value ? Buffer.from(value).readBigUInt64LE(v.offset) : 0n;
    };
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length !== 2 || argv.some((a) => a.startsWith("-"))) {
    console.error(USAGE);
    return 2;
  }
  const [iface, elf] = argv as [string, string];
  if (!existsSync(`/sys/class/net/${iface}`)) {
    console.error(`error: no network interface named ${iface} (see \`ip link\`)`);
    return 1;
  }
  if (!existsSync(elf)) {
    console.error(`error: no such file: ${elf} (build the probe with \`tsbpf build\`)`);
    return 1;
  }

  await using loaded = await Loader.create().xdp(iface).loadFile(elf);
  for (const { program } of loaded.links)
    console.log(`Loaded: ${program.name}, ${program.kindLabel}`);

  const dropped = droppedCounter(loaded);
  const stop = () => {
    // Read the probe's counter while its map is still open; closing ends the loop below.
    const n = dropped?.() ?? 0n;
    if (n > 0n) console.error(`lost ${n} requests: the ring buffer was full`);
    loaded.close();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);

  for await (const { events, lost, cpu } of loaded.events) {
    if (lost > 0) console.error(`lost ${lost} requests: the perf buffer of cpu ${cpu} was full`);
    for (const raw of events) {
      const { data, payload } = MapData.decode(RequestInfo, raw);
      const frame = raw.subarray(HEADER);
      console.log(`${clientAddress(data.saddr, frame)} - ${requestLine(payload)}`);
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
