// `tsbpf load --interval` / `--trace` and `tsbpf map dump --aggregate`: counters and histograms
// of a running object drawn from its maps (decoded with its BTF), tracePrintk lines streamed
// through a tracefs instance of tsbpf's own (which takes no line from other trace_pipe readers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";
import { createNetnsPair, netnsUnavailable, type NetnsPair } from "../../support/netns.js";
import { BIN, CliProcess } from "./cli-process.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { tracefsRoot } from "../../../src/sys/tracefs.js";

function tsbpf(args: string[], ns?: string) {
  const cmd = ns ? ["ip", "netns", "exec", ns, process.execPath, BIN] : [process.execPath, BIN];
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(r.status, 0, `tsbpf ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Ids of the maps of the XDP program on namespace B's interface, by name. */
function mapIdsOnB(net: NetnsPair): Map<string, number> {
  const [iface] = JSON.parse(tsbpf(["net", "--json", "-i", net.ifB], net.nsB)) as {
    xdp: { id: number }[];
  }[];
  const prog = JSON.parse(tsbpf(["prog", "show", "--json", String(iface!.xdp[0]!.id)])) as {
    maps: { id: number; name: string }[];
  };
  return new Map(prog.maps.map((m) => [m.name, m.id]));
}

const AT_EXIT = `-- Map: len_log2 (at exit) --
  value   : count    distribution
64 -> 127 : 3        |****************************************|
-- Map: len_by_type (at exit) --
key = 8
  value   : count    distribution
64 -> 127 : 3        |****************************************|
-- Map: ttl_linear (at exit) --
  value  : count    distribution
64 -> 79 : 3        |****************************************|
-- Map: icmp_count (at exit) --
{ type: 8, code: 0 }  3`;

test("tsbpf load --interval: counters and histograms every interval and at exit; map dump --aggregate", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  const cli = new CliProcess(
    ["load", "-i", net.ifB, "--interval", "0.2", fixture("hist.o")],
    net.nsB,
  );
  try {
    await cli.waitFor((l) => l === "Loaded: xdp_hist, XDP");
    // three echo requests of 98-byte frames with TTL 64 arrive on ifB
    assert.equal(net.ping("a", 3), 3);
    await cli.waitFor((l) => l === "{ type: 8, code: 0 }  3");
    const ids = mapIdsOnB(net);
    assert.equal(
      tsbpf(["map", "dump", "--aggregate", "id", String(ids.get("len_by_type"))]),
      "key = 8\n  value   : count    distribution\n64 -> 127 : 3        |****************************************|\n",
    );
    const json = JSON.parse(
      tsbpf(["map", "dump", "--aggregate", "--json", String(ids.get("icmp_count"))]),
    ) as unknown;
    assert.deepEqual(json, {
      map: "icmp_count",
      id: ids.get("icmp_count"),
      kind: "counter",
      counters: [{ key: { type: 8, code: 0 }, count: 3 }],
    });
    const r = await cli.stop("SIGINT");
    assert.deepEqual(r, { code: 0, signal: null }, cli.stderr);
    const out = cli.lines.join("\n");
    assert.ok(out.endsWith(AT_EXIT), out.slice(-800));
  } finally {
    await cli.stop("SIGKILL");
  }
});

test("tsbpf load --interval --json: one JSON line per map, the last ones marked final", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  const cli = new CliProcess(
    ["load", "-i", net.ifB, "--interval", "60", "--json", fixture("hist.o")],
    net.nsB,
  );
  try {
    await eventuallyLoaded(cli);
    assert.equal(net.ping("a", 2), 2);
    const r = await cli.stop("SIGINT");
    assert.deepEqual(r, { code: 0, signal: null }, cli.stderr);
    const maps = cli.lines.map(
      (l) =>
        JSON.parse(l) as { map: string; final?: boolean; counters?: unknown; histograms?: unknown },
    );
    assert.deepEqual(
      maps.map((m) => [m.map, m.final]),
      [
        ["len_log2", true],
        ["len_by_type", true],
        ["ttl_linear", true],
        ["icmp_count", true],
      ],
    );
    assert.deepEqual(maps[3]!.counters, [{ key: { type: 8, code: 0 }, count: 2 }]);
    const buckets = new Array(32).fill(0);
    buckets[7] = 2;
    assert.deepEqual(maps[0]!.histograms, [{ buckets }]);
    assert.deepEqual(maps[2]!.histograms, [
      { buckets: [0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], start: 0, step: 16 },
    ]);
  } finally {
    await cli.stop("SIGKILL");
  }
});

async function eventuallyLoaded(cli: CliProcess): Promise<void> {
  // with --json, `Loaded:` goes to stderr
  for (let i = 0; i < 200 && !cli.stderr.includes("Loaded: xdp_hist, XDP"); i++) {
    if (!cli.running) throw new Error(`tsbpf exited: ${cli.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(cli.stderr, /Loaded: xdp_hist, XDP/);
}

test("tsbpf load --trace streams tracePrintk lines and removes its tracefs instance", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-trace-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const marker = `tsbpf-trace-${process.pid}-${Date.now().toString(36)}`;
  writeFileSync(
    join(dir, "probe.ts"),
    `import { program, xdp, tracePrintk, XdpAction, type XdpContext } from "tsbpf/probe";
program({ license: "GPL" });
export const say = xdp((ctx: XdpContext) => {
  tracePrintk("${marker} len %d\\n", ctx.len());
  return XdpAction.Pass;
});
`,
  );
  const elf = join(dir, "probe.elf");
  writeFileSync(elf, compileProbe(join(dir, "probe.ts")).elf);
  using net = createNetnsPair();
  const cli = new CliProcess(["load", "-i", net.ifB, "--trace", elf], net.nsB);
  let instance: string | undefined;
  try {
    await cli.waitFor((l) => l === "Loaded: say, XDP");
    assert.equal(net.ping("a", 1), 1);
    const line = await cli.waitFor((l) => l.includes(marker));
    // ours: the instance named after a process running this test's object
    instance = readdirSync(`${tracefsRoot()}/instances`).find((n) => {
      const pid = /^tsbpf-printk-(\d+)-/.exec(n)?.[1];
      try {
        return pid !== undefined && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(elf);
      } catch {
        return false;
      }
    });
    assert.match(line, new RegExp(`^-- Trace: .*bpf_trace_printk: ${marker} len \\d+$`));
    assert.deepEqual(await cli.stop("SIGINT"), { code: 0, signal: null }, cli.stderr);
    assert.ok(instance, "a tracefs instance while it runs");
    assert.ok(!existsSync(`${tracefsRoot()}/instances/${instance}`), "removed at exit");
  } finally {
    await cli.stop("SIGKILL");
  }
});
