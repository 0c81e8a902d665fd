// End to end with real traffic: the TypeScript trace_http probe, compiled by tsbpf, attached
// by the Loader to a veth inside a private network namespace pair, sees an HTTP request made
// by node's client in the other namespace. (Harness: test/kernel/loader.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable, type NetnsPair } from "../../support/netns.js";
import { LoaderChild, type ChildEvent } from "../loader/child.js";
import { compileProbe } from "../../../src/compiler/index.js";

const PROBE = fileURLToPath(new URL("../../../../examples/trace_http/probe.ts", import.meta.url));
const ipOf = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join(".");

function httpGet(net: NetnsPair, port: number, path: string): void {
  const code = `require("http").get("http://${net.ipB}:${port}${path}", (r) => { r.resume(); r.on("end", () => process.exit(r.statusCode === 200 ? 0 : 1)); }).on("error", (e) => { console.error(e.message); process.exit(2); });`;
  net.exec("a", process.execPath, ["-e", code], { timeoutMs: 10_000 });
}

test("compiled trace_http reports a real HTTP request crossing a veth", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-trace-http-"));
  const elf = join(dir, "trace_http.elf");
  writeFileSync(elf, compileProbe(PROBE).elf);
  using net = createNetnsPair();
  const child = new LoaderChild(net.nsB, {
    file: elf,
    xdp: net.ifB,
    http: { host: net.ipB },
    requestInfo: true,
  });
  try {
    const r = await child.loaded();
    assert.deepEqual(
      r.programs.map((p) => [p.name, p.kind]),
      [["trace_http", "XDP"]],
    );
    const port = (await child.next()).listening!;
    const path = `/tsbpf-compiled-${process.pid}`;
    httpGet(net, port, path);
    let ev: ChildEvent | undefined;
    while (!ev?.payload?.startsWith("GET ")) ev = (await child.next()).event;
    assert.equal(ev.map, "requests");
    // The record's address bytes are in network order (be32), as in the C reference.
    assert.equal(ipOf(ev.saddr!), net.ipA);
    assert.equal(ipOf(ev.daddr!), net.ipB);
    assert.equal(ev.dport, port);
    assert.ok(ev.payload!.startsWith(`GET ${path} HTTP/1.1\r\n`), ev.payload);
    assert.equal(await child.stop(), 0);
  } finally {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
