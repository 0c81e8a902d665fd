// Runs inside the router namespace of redirect.test.ts (attaching needs the interfaces of
// that namespace): loads the compiled object, points config[0] at the egress interface,
// attaches one program to the ingress interface, prints {"ready":true}, and on the line
// "stop" prints {"redirected":N} and exits (the links close with the process).
//   node redirect-child.js '{"elf":"…","program":"tc_redirect","from":"r0","to":"r1"}'
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Collection } from "../../../src/load/collection.js";
import { attachTc } from "../../../src/link/tc.js";
import { attachXdp } from "../../../src/link/xdp.js";
import { resolveInterface } from "../../../src/link/iface.js";
import type { Link } from "../../../src/link/link.js";
import { u32, u64 } from "../../../src/types/index.js";

interface Config {
  elf: string;
  program: "tc_redirect" | "xdp_redirect";
  from: string;
  to: string;
}

const cfg = JSON.parse(process.argv[2]!) as Config;
const say = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
try {
  const coll = Collection.load(readFileSync(cfg.elf));
  const to = resolveInterface(cfg.to).index;
  coll.maps.get("config")!.set(u32.encode(0) as never, u32.encode(to) as never);
  const prog = coll.programs.get(cfg.program)!;
  const link: Link =
    cfg.program === "tc_redirect"
      ? attachTc(prog, cfg.from, { direction: "ingress" })
      : attachXdp(prog, cfg.from, { mode: "skb" });
  say({ ready: true, link: link.description, to });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== "stop") continue;
    const raw = coll.maps.get("counts")!.get(u32.encode(0) as never) as Uint8Array;
    say({ redirected: Number(u64.decode(raw)) });
    link.close();
    coll.close();
    process.exit(0);
  }
} catch (e) {
  say({ error: String((e as Error).stack ?? e) });
  process.exit(1);
}
