// Runs inside a test namespace of net-traffic.test.ts: loads an object, fills its maps
// (hex keys and values), attaches one program to one interface, prints {"ready":true}, and
// exits on the line "stop" (the link closes with the process).
//   node attach-child.js '{"elf":"…","iface":"tsb…","how":"xdp","maps":{"m":[["00","01"]]}}'
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Collection } from "../../../src/load/collection.js";
import { attachTc } from "../../../src/link/tc.js";
import { attachXdp } from "../../../src/link/xdp.js";
import type { Link } from "../../../src/link/link.js";

interface Config {
  elf: string;
  iface: string;
  how: "tc-ingress" | "tc-egress" | "xdp";
  maps?: Record<string, [string, string][]>;
}

const cfg = JSON.parse(process.argv[2]!) as Config;
const say = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
try {
  const coll = Collection.load(readFileSync(cfg.elf));
  for (const [name, rows] of Object.entries(cfg.maps ?? {}))
    for (const [k, v] of rows)
      coll.maps.get(name)!.set(Buffer.from(k, "hex"), Buffer.from(v, "hex"));
  const prog = [...coll.programs.values()][0]!;
  const link: Link =
    cfg.how === "xdp"
      ? attachXdp(prog, cfg.iface, { mode: "skb" })
      : attachTc(prog, cfg.iface, { direction: cfg.how === "tc-ingress" ? "ingress" : "egress" });
  say({ ready: true });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== "stop") continue;
    link.close();
    coll.close();
    process.exit(0);
  }
} catch (e) {
  say({ error: String((e as Error).stack ?? e) });
  process.exit(1);
}
