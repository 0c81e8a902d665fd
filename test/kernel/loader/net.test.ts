// Loader on network programs, through a real veth pair between two namespaces of the test's
// own: XDP counting pings, tc and tcx counters, and trace_http's events (perf and ring
// buffer) for one HTTP request. The loader runs in a child inside namespace B (interfaces
// are per namespace); the test reads the child's maps by id, as any other process could.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BpfMap } from "../../../src/map/map.js";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable, type NetnsPair } from "../../support/netns.js";
import { LoaderChild, type ChildEvent } from "./child.js";
import { linksOfProgram } from "../../support/bpftool.js";
import { fixture } from "../../support/fixtures.js";
import { eventually } from "../../support/poll.js";
import { u32, u64 } from "./helpers.js";

/** Sum of a per-CPU u64 slot, read through the map's kernel id. */
function perCpuSum(mapId: number, key: number): bigint {
  using m = BpfMap.fromId(mapId);
  return (m.perCpu().get(u32(key)) ?? []).reduce((s, v) => s + u64(v)!, 0n);
}

/** `{ packets, bytes }` slot of a stats array, read through the map's kernel id. */
function packets(mapId: number, key: number): bigint {
  using m = BpfMap.fromId(mapId);
  return u64(m.get(u32(key)))!;
}

test("Loader.xdp: xdp_count counts ICMP pings across the veth; stop detaches", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  const child = new LoaderChild(net.nsB, { file: fixture("xdp_count.o"), xdp: net.ifB });
  try {
    const r = await child.loaded();
    assert.deepEqual(
      r.programs.map((p) => [p.name, p.kind]),
      [["xdp_count_prog", "XDP"]],
    );
    assert.match(r.links[0]!, new RegExp(`xdp xdp_count_prog on ${net.ifB} .*bpf_link`));
    const progId = r.programs[0]!.id;
    assert.equal(linksOfProgram(progId).length, 1);
    const before = perCpuSum(r.maps.proto_count!, 1);
    assert.equal(net.ping("a", 3), 3);
    assert.ok(perCpuSum(r.maps.proto_count!, 1) - before >= 3n, "≥ 3 ICMP echo requests counted");
    assert.equal(await child.stop(), 0);
    assert.ok(await eventually(() => linksOfProgram(progId).length === 0), "link gone after stop");
  } finally {
    await child.stop();
  }
});

test("Loader.iface: tc (clsact) and tcx programs count the veth's packets", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  for (const [file, map, slots] of [
    ["tc_count.o", "tc_stats", [0]],
    ["tcx_count.o", "tcx_stats", [0, 1]],
  ] as const) {
    const child = new LoaderChild(net.nsB, { file: fixture(file), iface: net.ifB });
    try {
      const r = await child.loaded();
      assert.equal(r.links.length, r.programs.length, `${file}: every program attached`);
      assert.equal(net.ping("a", 3), 3, `${file}: traffic passes`);
      for (const slot of slots)
        assert.ok(packets(r.maps[map]!, slot) >= 3n, `${file}: ${map}[${slot}] ≥ 3`);
      assert.equal(await child.stop(), 0);
      for (const p of r.programs)
        assert.ok(await eventually(() => linksOfProgram(p.id).length === 0), `${p.name} detached`);
    } finally {
      await child.stop();
    }
  }
});

/** One HTTP GET with node's client from namespace A to the server in B. */
function httpGet(net: NetnsPair, port: number, path: string): void {
  const code = `require("http").get("http://${net.ipB}:${port}${path}", (r) => { r.resume(); r.on("end", () => process.exit(r.statusCode === 200 ? 0 : 1)); }).on("error", (e) => { console.error(e.message); process.exit(2); });`;
  net.exec("a", process.execPath, ["-e", code], { timeoutMs: 10_000 });
}

const ipOf = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join(".");

for (const file of ["trace_http.o", "trace_http_ringbuf.o"]) {
  test(`Loaded.events: ${file} reports an HTTP request as MapData<RequestInfo>`, async (t) => {
    if (!needsKernel(t, netnsUnavailable())) return;
    using net = createNetnsPair();
    const child = new LoaderChild(net.nsB, {
      file: fixture(file),
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
      const path = `/tsbpf-${process.pid}-${Date.now()}`;
      httpGet(net, port, path);
      let ev: ChildEvent | undefined;
      while (!ev?.payload?.startsWith("GET ")) ev = (await child.next()).event;
      assert.equal(ev.map, "requests");
      assert.equal(ipOf(ev.saddr!), net.ipA);
      assert.equal(ipOf(ev.daddr!), net.ipB);
      assert.equal(ev.dport, port);
      assert.ok(ev.payload!.startsWith(`GET ${path} HTTP/1.1\r\n`), ev.payload);
      assert.equal(await child.stop(), 0);
    } finally {
      await child.stop();
    }
  });
}
