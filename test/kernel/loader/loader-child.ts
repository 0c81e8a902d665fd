// Runs a Loader inside a network namespace (started with `ip netns exec NS node loader-child.js
// CONFIG`) and reports on stdout, one JSON line each:
//   {"loaded": {"programs": [{name, kind, id}], "maps": {name: id}, "links": [description]}}
//   {"listening": port}                    when config.http is set (an HTTP server on it)
//   {"event": {map, size, hex, saddr?, daddr?, dport?, payload?}}   per event
//   {"error": message}                     when loading fails
// It exits (closing everything) when stdin ends or says "exit".
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { Loader } from "../../../src/load/loader.js";
import { MapData } from "../../../src/map/map-data.js";
import { struct, u16, u32 } from "../../../src/types/index.js";

interface ChildConfig {
  file: string;
  xdp?: string;
  iface?: string;
  globals?: Record<string, number>;
  /** serve HTTP on this address (port 0 = any) */
  http?: { host: string };
  /** decode events as MapData<RequestInfo> */
  requestInfo?: boolean;
}

const RequestInfo = struct("RequestInfo", { saddr: u32, daddr: u32, sport: u16, dport: u16 });
const say = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as ChildConfig;
  let loader = Loader.create();
  if (config.xdp) loader = loader.xdp(config.xdp);
  if (config.iface) loader = loader.iface(config.iface);
  if (config.globals) loader = loader.options({ globals: config.globals });
  let loaded;
  try {
    loaded = await loader.loadFile(config.file);
  } catch (e) {
    say({ error: (e as Error).message });
    return;
  }
  const server = config.http
    ? createServer((_req, res) => res.end("ok\n")).listen(0, config.http.host)
    : undefined;
  if (server) await new Promise((r) => server.once("listening", r));
  say({
    loaded: {
      programs: [...loaded.programs.values()].map((p) => ({
        name: p.name,
        kind: p.kindLabel,
        id: p.info().id,
      })),
      maps: Object.fromEntries([...loaded.maps].map(([n, m]) => [n, m.id])),
      links: loaded.links.map((l) => l.link.description),
    },
  });
  if (server) say({ listening: (server.address() as { port: number }).port });

  const stdin = createInterface({ input: process.stdin });
  const done = new Promise<void>((resolve) => {
    stdin.on("line", (l) => l.trim() === "exit" && resolve());
    stdin.on("close", resolve);
  });
  const pump = (async () => {
    for await (const { map, events } of loaded.events)
      for (const raw of events) {
        const ev: Record<string, unknown> = {
          map,
          size: raw.length,
          hex: Buffer.from(raw).toString("hex"),
        };
        if (config.requestInfo) {
          const { data, payload } = MapData.decode(RequestInfo, raw);
          Object.assign(ev, {
            saddr: data.saddr,
            daddr: data.daddr,
            dport: data.dport,
            payload: Buffer.from(payload).toString("latin1"),
          });
        }
        say({ event: ev });
      }
  })();
  await done;
  server?.close();
  loaded.close();
  await pump;
  stdin.close();
}

main().catch((e: unknown) => {
  say({ error: String((e as Error).stack ?? e) });
  process.exitCode = 1;
});
