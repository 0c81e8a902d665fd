// `make demo`: the HTTP tracer end to end, in two private network namespaces.
//
//   client ns (10.200.0.2, fd00:200::2) ──veth── server ns (10.200.0.1, fd00:200::1)
//                                                 ↑ XDP probe on the server's veth
//
// Serves HTTP in the server namespace, attaches the probe with examples/trace_http/loader.ts,
// sends real requests from the client namespace and prints the loader's lines; then shows the
// same probe through `tsbpf load` (cargo-bpf's hexdumps). Everything it creates is removed at
// the end, also on Ctrl-C. No traffic leaves the two namespaces.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../../..");
const tag = `${process.pid}`;
const SRV = `tsbpf-demo-srv-${tag}`;
const CLI = `tsbpf-demo-cli-${tag}`;
const IFACE = "veth-srv";
const PORT = 8080;

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
const children: ChildProcess[] = [];

function setUp(): void {
  ip("netns", "add", SRV);
  ip("netns", "add", CLI);
  ip("link", "add", IFACE, "netns", SRV, "type", "veth", "peer", "name", "veth-cli", "netns", CLI);
  for (const [ns, dev, v4, v6] of [
    [SRV, IFACE, "10.200.0.1/24", "fd00:200::1/64"],
    [CLI, "veth-cli", "10.200.0.2/24", "fd00:200::2/64"],
  ] as const) {
    ip("-n", ns, "addr", "add", v4, "dev", dev);
    ip("-n", ns, "addr", "add", v6, "dev", dev, "nodad");
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "link", "set", dev, "up");
  }
}

function tearDown(): void {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  for (const ns of [SRV, CLI]) {
    try {
      ip("netns", "del", ns);
    } catch {
      /* already gone */
    }
  }
}

/** Runs `cmd` in a namespace; resolves when `ready` appears on its stdout (echoing lines). */
function start(ns: string, cmd: string[], ready: RegExp | undefined, echo: (l: string) => void) {
  const child = spawn("ip", ["netns", "exec", ns, ...cmd], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise<ChildProcess>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        echo(line);
        if (ready?.test(line)) resolve(child);
      }
    });
    if (!ready) resolve(child);
    child.once("exit", (code) => reject(new Error(`${cmd.join(" ")} exited with ${code}`)));
  });
}

const SERVER = `
const http = require("node:http");
http.createServer((req, res) => { req.resume(); req.on("end", () => res.end("ok\\n")); })
  .listen(${PORT}, "::", () => console.log("listening"));`;

const REQUESTS: [string, string, string][] = [
  ["GET", "10.200.0.1", "/where-has-the-time-gone?"],
  ["POST", "10.200.0.1", "/you-will-be-missed"],
  ["PUT", "10.200.0.1", "/off-to-do-great-things"],
  ["DELETE", "10.200.0.1", "/api/items/42"],
  ["HEAD", "10.200.0.1", "/healthz"],
  ["GET", "fd00:200::1", "/over/ipv6"],
];

const CLIENT = (reqs: [string, string, string][]) => `
const http = require("node:http");
const reqs = ${JSON.stringify(reqs)};
(async () => {
  for (const [method, host, path] of reqs) {
    await new Promise((resolve, reject) => {
      const r = http.request({ host, port: ${PORT}, method, path, agent: false }, (res) => { res.resume(); res.on("end", resolve); });
      r.on("error", reject);
      r.end(method === "POST" || method === "PUT" ? "hello" : undefined);
    });
  }
})().catch((e) => { console.error(e.message); process.exit(1); });`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const elf = process.argv[2];
  if (!elf) throw new Error("usage: demo ELF");
  const node = process.execPath;
  setUp();
  console.log(
    `== network namespaces ${SRV} (10.200.0.1) and ${CLI} (10.200.0.2), joined by a veth pair`,
  );
  await start(SRV, [node, "-e", SERVER], /listening/, () => {});
  console.log(`== HTTP server on port ${PORT} in ${SRV}`);

  console.log(`== loader: examples/trace_http/loader.ts ${IFACE} ${elf}`);
  let seen = 0;
  const loader = await start(
    SRV,
    [node, join(root, "dist/examples/trace_http/loader.js"), IFACE, elf],
    /^Loaded:/,
    (l) => {
      console.log(`   ${l}`);
      if (!l.startsWith("Loaded:")) seen++;
    },
  );
  await start(CLI, [node, "-e", CLIENT(REQUESTS)], undefined, () => {});
  for (let t = 0; seen < REQUESTS.length && t < 50; t++) await sleep(100);
  loader.kill("SIGINT");
  await new Promise((r) => loader.once("exit", r));
  if (seen < REQUESTS.length) throw new Error(`expected ${REQUESTS.length} lines, saw ${seen}`);

  console.log(`\n== the same probe through the generic loader: tsbpf load -i ${IFACE} ${elf}`);
  const load = await start(
    SRV,
    [node, join(root, "dist/src/cli/bin.js"), "load", "-i", IFACE, elf],
    /^Loaded:/,
    (l) => console.log(`   ${l}`),
  );
  await start(CLI, [node, "-e", CLIENT([["GET", "10.200.0.1", "/foo"]])], undefined, () => {});
  await sleep(500);
  load.kill("SIGINT");
  await new Promise((r) => load.once("exit", r));
  console.log("\n== done; removing the namespaces");
}

let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"] as const)
  process.once(sig, () => {
    interrupted = true;
    tearDown();
    process.exit(130);
  });
main()
  .catch((e: unknown) => {
    if (!interrupted) {
      console.error(`demo failed: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  })
  .finally(tearDown);
