// The fleet end to end (issue 15): N simulated nodes, each a network namespace with its own
// veth, its own `tsbpf agent` process and its own XDP probe (examples/fleet), scraped by Debian's
// real `prometheus` on 127.0.0.1 and pushing OTLP to a receiver. The test sends a known set of
// UDP datagrams to each node and checks, through PromQL over Prometheus' HTTP API, `sum by
// (node)`, `rate()` and `histogram_quantile()` against that traffic, then decodes the OTLP
// protobuf payloads and checks the same numbers; then SIGHUP (a good and a bad config) and
// SIGTERM (exit 0, nothing left attached). Every process, namespace and file is removed.
//
// Each agent runs inside its node's namespace (its probe attaches to the node's interface) and
// serves /metrics on a listening socket the test opened on the host's loopback and passed down
// (`--listen-fd 3`, as systemd socket activation does), so Prometheus scrapes over loopback only.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel, inCI } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable, type NetnsPair } from "../../support/netns.js";
import { Prometheus, prometheusUnavailable } from "../../support/prometheus.js";
import { decodeExport, CUMULATIVE, type OtlpExport } from "../../support/otlp.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const TSBPF = join(root, "dist/src/cli/bin.js");
const RECEIVER = join(root, "dist/test/support/otlp-receiver.js");
const CONFIG = join(root, "examples/fleet/exporter.yaml");
const NODES = 3;
/** UDP payload sizes, cycled; the probe sees Ethernet frames 42 bytes longer (14 + 20 + 8). */
const PAYLOADS = [10, 100, 300, 700, 1400];
const HEADERS = 42;
const MAX_BUCKET = 15;
/** `le` of log2 bucket i: 2^(i+1) − 1 */
const BOUNDS = Array.from({ length: MAX_BUCKET + 1 }, (_, i) => 2 ** (i + 1) - 1);

interface Node {
  name: string;
  net: NetnsPair;
  config: string;
  port: number;
  agent: ChildProcess;
  agentLog: string;
  receiver: ChildProcess;
  exports: OtlpExport[];
  /** frames sent so far (sizes) */
  frames: number[];
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(
        `gave up waiting (${ms / 1000} s) for ${what}${last ? `: ${(last as Error).message}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

function listenLoopback(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

/** Sends UDP datagrams of the given payload sizes from the node's peer namespace, one after another. */
function sendUdp(node: Node, payloads: number[]): void {
  const script = `const s=require("dgram").createSocket("udp4");const p=JSON.parse(process.argv[1]);let i=0;
const next=()=>{if(i>=p.length){s.close();return;}s.send(Buffer.alloc(p[i++]),9999,process.argv[2],(e)=>{if(e)throw e;next();});};next();`;
  node.net.exec("b", process.execPath, ["-e", script, JSON.stringify(payloads), node.net.ipA]);
  node.frames.push(...payloads.map((p) => p + HEADERS));
}

/**
 * Prometheus' extrapolatedRate (promql/functions.go, 2.x) over raw samples [t s, v], in integer
 * milliseconds as Prometheus keeps time.
 */
function expectedRate(samples: [number, number][], evalTime: number, rangeS: number): number {
  const ms = (s: number) => Math.round(s * 1000);
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  let result = last[1] - first[1];
  for (let i = 1; i < samples.length; i++)
    if (samples[i]![1] < samples[i - 1]![1]) result += samples[i - 1]![1];
  let toStart = (ms(first[0]) - (ms(evalTime) - rangeS * 1000)) / 1000;
  const toEnd = (ms(evalTime) - ms(last[0])) / 1000;
  const sampled = (ms(last[0]) - ms(first[0])) / 1000;
  const avg = sampled / (samples.length - 1);
  if (result > 0 && first[1] >= 0) toStart = Math.min(toStart, sampled * (first[1] / result));
  const threshold = avg * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : avg / 2;
  interval += toEnd < threshold ? toEnd : avg / 2;
  return (result * (interval / sampled)) / rangeS;
}

/** Prometheus' bucketQuantile over cumulative buckets [le, count], the last le +Inf. */
function expectedQuantile(q: number, buckets: [number, number][]): number {
  const total = buckets[buckets.length - 1]![1];
  let rank = q * total;
  let b = buckets.findIndex(([, c]) => c >= rank);
  if (b < 0 || b === buckets.length - 1) b = buckets.length - 1;
  if (b === buckets.length - 1) return buckets[buckets.length - 2]![0];
  let start = 0;
  let count = buckets[b]![1];
  if (b > 0) {
    start = buckets[b - 1]![0];
    count -= buckets[b - 1]![1];
    rank -= buckets[b - 1]![1];
  }
  return start + (buckets[b]![0] - start) * (rank / count);
}

/** Counts per log2 bucket (non-cumulative; one more: above the last bound). */
function bucketCounts(frames: number[]): number[] {
  const counts = new Array<number>(MAX_BUCKET + 2).fill(0);
  for (const f of frames) counts[Math.min(Math.floor(Math.log2(f)), MAX_BUCKET)]!++;
  return counts;
}

function cumulative(frames: number[]): [number, number][] {
  let c = 0;
  const counts = bucketCounts(frames);
  const out: [number, number][] = BOUNDS.map((le, i) => [le, (c += counts[i]!)]);
  out.push([Infinity, frames.length]);
  return out;
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: got ${a}, expected ${b}`);

function xdpAttached(node: Node): boolean {
  const r = spawnSync("ip", ["-n", node.net.nsA, "link", "show", node.net.ifA], {
    encoding: "utf8",
  });
  return /\bxdp/.test(r.stdout);
}

function skipOrFail(t: TestContext, why: string | undefined): boolean {
  if (why === undefined) return false;
  if (inCI) throw new Error(`the fleet test cannot run under CI: ${why}`);
  t.skip(why);
  return true;
}

test("a fleet of agents in network namespaces: Prometheus PromQL and OTLP agree with the traffic sent", async (t) => {
  if (!needsKernel(t)) return;
  if (skipOrFail(t, netnsUnavailable() ?? prometheusUnavailable())) return;

  const dir = mkdtempSync(join(tmpdir(), `tsbpf-fleet-${process.pid}-`));
  const nodes: Node[] = [];
  const state: { prom?: Prometheus } = {};
  const killAll = () => {
    for (const n of nodes) {
      if (n.agent.exitCode === null && n.agent.signalCode === null) n.agent.kill("SIGKILL");
      if (n.receiver.exitCode === null && n.receiver.signalCode === null)
        n.receiver.kill("SIGKILL");
    }
  };
  process.once("exit", killAll);
  t.after(async () => {
    killAll();
    await state.prom?.close();
    for (const n of nodes) n.net.close();
    rmSync(dir, { recursive: true, force: true });
    process.off("exit", killAll);
  });

  const build = spawnSync(
    process.execPath,
    [TSBPF, "build", "examples/fleet/probe.ts", "-o", dir],
    {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, TSBPF_SERVER: "0" },
    },
  );
  assert.equal(build.status, 0, `tsbpf build failed:\n${build.stdout}${build.stderr}`);
  const object = join(dir, "fleet", "fleet.elf");

  for (let i = 0; i < NODES; i++) {
    const net = createNetnsPair();
    const config = join(dir, `node${i}.yaml`);
    copyFileSync(CONFIG, config);
    // The OTLP receiver lives in the node's namespace, where the agent can reach it.
    const receiver = spawn("ip", ["netns", "exec", net.nsA, process.execPath, RECEIVER], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const node: Node = {
      name: `node${i}`,
      net,
      config,
      port: 0,
      agent: undefined as unknown as ChildProcess,
      agentLog: "",
      receiver,
      exports: [],
      frames: [],
    };
    nodes.push(node);
    let buf = "";
    let receiverPort = 0;
    receiver.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as {
          port?: number;
          path?: string;
          body?: string;
          contentType?: string;
        };
        buf = buf.slice(nl + 1);
        if (line.port !== undefined) receiverPort = line.port;
        else {
          assert.equal(line.path, "/v1/metrics");
          assert.equal(line.contentType, "application/x-protobuf");
          node.exports.push(...decodeExport(Buffer.from(line.body!, "base64")));
        }
      }
    });
    await until(
      `the OTLP receiver of ${node.name}`,
      () => (receiverPort > 0 ? true : undefined),
      30_000,
    );

    const server = await listenLoopback();
    node.port = (server.address() as { port: number }).port;
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    node.agent = spawn(
      "ip",
      [
        ...["netns", "exec", net.nsA, process.execPath, TSBPF, "agent", object],
        ...["--config", config, "-i", net.ifA, "--listen-fd", "3"],
        ...["--otlp", `http://127.0.0.1:${receiverPort}/v1/metrics`, "--otlp-interval", "500"],
        ...["--resource", `k8s.node.name=${node.name}`],
      ],
      { stdio: ["ignore", "ignore", "pipe", fd] },
    );
    server.close(); // the agent holds the socket now
    node.agent.stderr!.on("data", (d: Buffer) => (node.agentLog += d.toString()));
    await until(`${node.name}'s agent to serve metrics`, () =>
      node.agentLog.includes("serving metrics")
        ? true
        : node.agent.exitCode !== null
          ? Promise.reject(new Error(node.agentLog))
          : undefined,
    );
    assert.ok(xdpAttached(node), `${node.name}: XDP attached to ${net.ifA}`);
  }

  state.prom = await Prometheus.start(
    nodes.map((n) => ({ address: `127.0.0.1:${n.port}`, labels: { node: n.name } })),
    { job: "tsbpf", interval: "1s" },
  );
  const p = state.prom;
  const ups = await until("every agent to be scraped", async () => {
    const r = await p.query('up{job="tsbpf"} == 1');
    return r.length === NODES ? r : undefined;
  });
  assert.deepEqual(
    ups.map((s) => s.metric.node).sort(),
    nodes.map((n) => n.name),
  );

  const packetsByNode = async () =>
    new Map(
      (await p.query('sum by (node) (fleet_packets_total{proto="udp"})')).map((s) => [
        s.metric.node!,
        s.value,
      ]),
    );
  const seenAll = async () => {
    const m = await packetsByNode();
    return nodes.every((n) => m.get(n.name) === n.frames.length) ? m : undefined;
  };

  // Two phases of traffic, so that rate() sees the counters grow between scrapes.
  for (const [i, n] of nodes.entries())
    sendUdp(
      n,
      Array.from({ length: 5 + 3 * i }, (_, j) => PAYLOADS[j % PAYLOADS.length]!),
    );
  await until("Prometheus to see the first traffic", seenAll);
  for (const [i, n] of nodes.entries())
    sendUdp(
      n,
      Array.from({ length: 10 + 7 * i }, (_, j) => PAYLOADS[(j + 2) % PAYLOADS.length]!),
    );
  const byNode = await until("Prometheus to see all the traffic", seenAll);
  const T = Math.round(Date.now()) / 1000;

  await t.test("sum by (node): packets and bytes per node", async () => {
    for (const n of nodes) assert.equal(byNode.get(n.name), n.frames.length, n.name);
    const bytes = await p.query('sum by (node) (fleet_received_bytes_total{proto="udp"})', T);
    const sizes = await p.query('sum by (node) (fleet_frame_size_bytes_sum{proto="udp"})', T);
    for (const n of nodes) {
      const total = n.frames.reduce((a, b) => a + b, 0);
      assert.equal(bytes.find((s) => s.metric.node === n.name)?.value, total, `${n.name} bytes`);
      assert.equal(sizes.find((s) => s.metric.node === n.name)?.value, total, `${n.name} _sum`);
    }
    // The source label is the peer's address, decoded from the key's be32 field.
    const src = await p.query('fleet_packets_total{proto="udp"}', T);
    for (const n of nodes)
      assert.equal(src.find((s) => s.metric.node === n.name)?.metric.source, n.net.ipB);
    // Each agent consumed one ring buffer event per datagram.
    const events = await until("the agents' event counts", async () => {
      const e = await p.query('sum by (node) (tsbpf_agent_events_total{map="seen"})');
      return nodes.every((n) => e.find((s) => s.metric.node === n.name)?.value === n.frames.length)
        ? e
        : undefined;
    });
    assert.equal(events.length, NODES);
    const up = await p.query("tsbpf_agent_up", T);
    assert.deepEqual(
      up.map((s) => s.value),
      [1, 1, 1],
    );
  });

  await t.test("rate(): Prometheus' extrapolation over the scraped counter samples", async () => {
    const range = 120;
    const raw = await p.rawRange(`fleet_packets_total{proto="udp"}[${range}s]`, T);
    const rates = await p.query(`rate(fleet_packets_total{proto="udp"}[${range}s])`, T);
    const sumRates = await p.query(
      `sum by (node) (rate(fleet_packets_total{proto="udp"}[${range}s]))`,
      T,
    );
    for (const n of nodes) {
      const series = raw.find((s) => s.metric.node === n.name);
      assert.ok(series && series.values.length >= 2, `${n.name}: at least two samples`);
      const vals = series.values.map(([, v]) => v);
      for (let i = 1; i < vals.length; i++)
        assert.ok(vals[i]! >= vals[i - 1]!, `${n.name}: counter never decreases`);
      assert.equal(vals[vals.length - 1], n.frames.length);
      assert.ok(vals[0]! < n.frames.length, `${n.name}: the window saw the counter grow`);
      const want = expectedRate(series.values, T, range);
      assert.ok(want > 0);
      close(rates.find((s) => s.metric.node === n.name)!.value, want, `${n.name} rate`);
      close(
        sumRates.find((s) => s.metric.node === n.name)!.value,
        want,
        `${n.name} sum by (node) rate`,
      );
    }
  });

  await t.test("histogram_quantile() over the frame-size buckets", async () => {
    for (const q of [0.5, 0.9]) {
      const per = await p.query(
        `histogram_quantile(${q}, sum by (node, le) (fleet_frame_size_bytes_bucket{proto="udp"}))`,
        T,
      );
      for (const n of nodes)
        close(
          per.find((s) => s.metric.node === n.name)!.value,
          expectedQuantile(q, cumulative(n.frames)),
          `${n.name} p${q * 100}`,
        );
      const fleet = await p.query(
        `histogram_quantile(${q}, sum by (le) (fleet_frame_size_bytes_bucket{proto="udp"}))`,
        T,
      );
      close(
        fleet[0]!.value,
        expectedQuantile(q, cumulative(nodes.flatMap((n) => n.frames))),
        `fleet p${q * 100}`,
      );
    }
    const counts = await p.query('sum by (node) (fleet_frame_size_bytes_count{proto="udp"})', T);
    for (const n of nodes)
      assert.equal(counts.find((s) => s.metric.node === n.name)?.value, n.frames.length);
  });

  await t.test("OTLP: the pushed protobuf payloads carry the same numbers", async () => {
    for (const n of nodes) {
      const last = await until(`${n.name}'s OTLP export of all its traffic`, () =>
        [...n.exports]
          .reverse()
          .find((e) =>
            e.metrics.some(
              (m) =>
                m.name === "fleet_packets" &&
                m.points.some(
                  (pt) => pt.attributes.proto === "udp" && pt.value === n.frames.length,
                ),
            ),
          ),
      );
      assert.equal(last.resource["k8s.node.name"], n.name);
      assert.equal(last.resource["service.name"], "tsbpf-agent");
      const get = (name: string) => last.metrics.find((m) => m.name === name)!;
      const packets = get("fleet_packets");
      assert.equal(packets.kind, "sum");
      assert.equal(packets.monotonic, true);
      assert.equal(packets.temporality, CUMULATIVE);
      const bytes = get("fleet_received_bytes");
      assert.equal(bytes.unit, "By");
      const total = n.frames.reduce((a, b) => a + b, 0);
      assert.equal(bytes.points.find((pt) => pt.attributes.proto === "udp")?.value, total);
      assert.equal(
        bytes.points.find((pt) => pt.attributes.proto === "udp")?.attributes.source,
        n.net.ipB,
      );
      const hist = get("fleet_frame_size_bytes");
      assert.equal(hist.kind, "histogram");
      assert.equal(hist.temporality, CUMULATIVE);
      const pt = hist.points.find((x) => x.attributes.proto === "udp")!;
      assert.deepEqual(pt.bounds, BOUNDS);
      assert.deepEqual(pt.bucketCounts, bucketCounts(n.frames));
      assert.equal(pt.count, n.frames.length);
      assert.equal(pt.sum, total);
      assert.ok(pt.startNs > 0n && pt.timeNs >= pt.startNs);
      const events = get("tsbpf_agent_events");
      assert.equal(events.points.find((x) => x.attributes.map === "seen")?.value, n.frames.length);
    }
  });

  await t.test(
    "SIGHUP reloads; a config that does not fit the object is refused and the probe stays",
    async () => {
      const n = nodes[0]!;
      const scrape = async () => (await fetch(`http://127.0.0.1:${n.port}/metrics`)).text();
      writeFileSync(
        n.config,
        "metrics:\n  - { name: nope, type: counter, help: h, map: no_such_map }\n",
      );
      n.agent.kill("SIGHUP");
      await until("the failed reload to be counted", async () =>
        /tsbpf_agent_reloads_total\{result="failure"\} 1\n/.test(await scrape()) ? true : undefined,
      );
      assert.match(n.agentLog, /reload failed: metric nope: the object has no map .*no_such_map/);
      const still = await scrape();
      assert.match(still, /^tsbpf_agent_up 1$/m);
      assert.match(
        still,
        new RegExp(
          `^fleet_packets_total\\{source="${n.net.ipB.replace(/\./g, "\\.")}",proto="udp"\\} ${n.frames.length}$`,
          "m",
        ),
      );
      copyFileSync(CONFIG, n.config);
      n.agent.kill("SIGHUP");
      const after = await until("the reload to be counted", async () => {
        const s = await scrape();
        return /tsbpf_agent_reloads_total\{result="success"\} 1\n/.test(s) ? s : undefined;
      });
      // A reload loads the probe afresh: its maps start empty (Prometheus' rate() sees a reset).
      assert.doesNotMatch(after, /^fleet_packets_total\{/m);
      assert.match(after, /^tsbpf_agent_up 1$/m);
      assert.ok(xdpAttached(n));
    },
  );

  await t.test("SIGTERM: every agent detaches, pushes a last export and exits 0", async () => {
    for (const n of nodes) {
      const exited = new Promise<number | null>((r) => n.agent.once("exit", (code) => r(code)));
      const before = n.exports.length;
      n.agent.kill("SIGTERM");
      assert.equal(await exited, 0, n.agentLog);
      await until(`${n.name}: a last OTLP export on shutdown`, () =>
        n.exports.length > before ? true : undefined,
      );
      assert.ok(!xdpAttached(n), `${n.name}: nothing attached to ${n.net.ifA}`);
      assert.match(n.agentLog, /detached, exiting/);
    }
  });
});
