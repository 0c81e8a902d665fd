// `make demo`: the HTTP tracer end to end, in two private network namespaces.
//
//   usage: node dist/examples/trace_http/demo.js ELF
//
// Serves HTTP in the server namespace, attaches the probe in ELF with the example's own loader
// (loader.ts), sends real requests from the client namespace over IPv4 and IPv6 and prints the
// loader's lines as they arrive; then shows the same probe through `tsbpf load` (cargo-bpf's
// hexdumps). Everything it creates is removed at the end, also on Ctrl-C. No traffic leaves
// the two namespaces (see sandbox.ts).
import { fileURLToPath } from "node:url";
import { Sandbox, type NsProcess } from "./sandbox.js";
import type { HttpRequest } from "./client.js";

const LOADER = fileURLToPath(new URL("./loader.js", import.meta.url));
const TSBPF = fileURLToPath(new URL("../../src/cli/bin.js", import.meta.url));
const PORT = 8080;

const say = (s: string) => console.log(`\n== ${s}`);
const echo = (line: string, stream: "out" | "err") =>
  (stream === "out" ? console.log : console.error)(`   ${line}`);

async function stopClean(p: NsProcess, what: string): Promise<void> {
  const code = await p.stop("SIGINT");
  if (code !== 0) throw new Error(`${what} exited with ${code} after Ctrl-C`);
}

async function main(elf: string | undefined, sb: Sandbox): Promise<void> {
  if (!elf) throw new Error("usage: demo ELF");
  const { server: srv, client: cli } = sb;
  const requests: HttpRequest[] = [
    ["GET", srv.v4, "/where-has-the-time-gone?"],
    ["POST", srv.v4, "/you-will-be-missed"],
    ["PUT", srv.v4, "/off-to-do-great-things"],
    ["DELETE", srv.v4, "/api/items/42"],
    ["HEAD", srv.v4, "/healthz"],
    ["PATCH", srv.v4, "/api/items/42"],
    ["OPTIONS", srv.v4, "/api"],
    ["GET", srv.v6, "/over/ipv6"],
    ["POST", srv.v6, "/v6/form"],
  ];

  say(
    `namespaces ${srv.ns} (${srv.iface} ${srv.v4} ${srv.v6}) and ` +
      `${cli.ns} (${cli.iface} ${cli.v4} ${cli.v6}), joined by a veth pair`,
  );
  await sb.httpServer(PORT);
  say(`HTTP server listening on port ${PORT} in ${srv.ns}`);

  say(`node examples/trace_http/loader.js ${srv.iface} ${elf}   (in ${srv.ns})`);
  const loader = sb.spawn("server", [process.execPath, LOADER, srv.iface, elf], echo);
  await loader.waitFor(/^Loaded: /);
  await sb.send({ port: PORT, http: requests });
  await loader.until(() => loader.stdout.length > requests.length, "the loader's lines");
  await stopClean(loader, "the loader");
  say(`${requests.length} requests sent from ${cli.ns}, ${loader.stdout.length - 1} lines printed`);

  say(`the same probe through the generic loader: tsbpf load -i ${srv.iface} ${elf}`);
  const load = sb.spawn("server", [process.execPath, TSBPF, "load", "-i", srv.iface, elf], echo);
  await load.waitFor(/^Loaded: /);
  await sb.send({ port: PORT, http: [["GET", srv.v4, "/foo"]] });
  await load.waitFor(/^-- Event: requests --$/);
  await load.until(() => /^ {40,}[0-9a-f]{8}$/.test(load.stdout.at(-1) ?? ""), "the hexdump");
  await stopClean(load, "tsbpf load");
}

const sb = Sandbox.create(String(process.pid));
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => {
    interrupted = true;
    console.error(`\n== ${sig}: removing the namespaces`);
    sb.close();
    process.exit(130);
  });
main(process.argv[2], sb)
  .then(() => say("done; removing the namespaces"))
  .catch((e: unknown) => {
    if (!interrupted) {
      console.error(`demo failed: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  })
  .finally(() => sb.close());
