// Child process for attach tests that must run inside a network namespace: started as
//   ip netns exec <ns> node attach-child.js <kind> <iface> <progType> <progName> [json options]
// with the program fd as its fd 3 (and, for {"replaceFd4": true}, the program to replace as fd 4). It attaches, prints one JSON line
// {"attached": description, "linkId": id|null} (or {"error": message}), then obeys stdin
// lines: "close" (detach, print {"closed": true}), "exit", and the endings of
// exit-cleanup.test.ts: "process.exit" (process.exit(3)), "throw" (uncaught exception),
// "reject" (unhandled rejection), "own-sigint" (install a SIGINT listener of the program's own
// that prints {"sigint": true} and keeps running; "exit" then ends it), each acknowledged with
// {"ok": line} before it acts.
import { createInterface } from "node:readline";
import { attachTc, attachXdp, FdLink, type Link } from "../../../src/link/index.js";

const [kind, iface, progType, progName, json] = process.argv.slice(2);
const prog = { fd: 3, type: Number(progType), name: progName ?? "" };
const opts = json ? JSON.parse(json) : {};
// {"replaceFd4": true}: the program to replace arrives as fd 4.
if (opts.replaceFd4) {
  delete opts.replaceFd4;
  opts.replace = { fd: 4, type: prog.type, name: "replaced" };
}
const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + "\n");

let link: Link | undefined;
try {
  link = kind === "xdp" ? attachXdp(prog, iface!, opts) : attachTc(prog, iface!, opts);
  say({ attached: link.description, linkId: link instanceof FdLink ? link.id : null });
} catch (e) {
  say({ error: (e as Error).message });
}
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "close") {
    try {
      link?.close();
      say({ closed: true });
    } catch (e) {
      say({ error: (e as Error).message });
    }
  } else if (line === "exit") break;
  else if (line === "process.exit") {
    say({ ok: line });
    process.exit(3);
  } else if (line === "throw") {
    say({ ok: line });
    setImmediate(() => {
      throw new Error("uncaught on purpose");
    });
  } else if (line === "reject") {
    say({ ok: line });
    void Promise.reject(new Error("unhandled on purpose"));
  } else if (line === "own-sigint") {
    process.on("SIGINT", () => say({ sigint: true }));
    say({ ok: line });
  }
}
process.exit(0);
