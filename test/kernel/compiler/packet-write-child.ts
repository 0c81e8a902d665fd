// Runs inside a test namespace of packet-write-net.test.ts (attaching needs that namespace's
// interfaces): loads the object, attaches one program to one interface, prints {"ready":true},
// and exits on the line "stop" (the link closes with the process).
//   node packet-write-child.js '{"elf":"…","program":"tc_port","iface":"tsb…","how":"tc-ingress"}'
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Collection } from "../../../src/load/collection.js";
import { attachTc } from "../../../src/link/tc.js";
import { attachXdp } from "../../../src/link/xdp.js";
import type { Link } from "../../../src/link/link.js";

interface Config {
  elf: string;
  program: string;
  iface: string;
  how: "tc-ingress" | "tc-egress" | "xdp";
}

const cfg = JSON.parse(process.argv[2]!) as Config;
const say = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
try {
  const coll = Collection.load(readFileSync(cfg.elf));
  const prog = coll.programs.get(cfg.program)!;
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
