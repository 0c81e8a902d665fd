// `tsbpf load` as a user runs it: inside a test namespace, attached to its veth; prints
// `Loaded: <program>, <KIND>`, events as hexdumps or JSON; SIGINT/SIGTERM/SIGHUP detach and
// exit 0; SIGKILL leaves nothing attached either (bpf_link).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable, type NetnsPair } from "../../support/netns.js";
import { linkIds, linksOfProgram } from "../../support/bpftool.js";
import { fixture } from "../../support/fixtures.js";
import { eventually } from "../../support/poll.js";
import { CliProcess, unhexdump } from "./cli-process.js";

/**
 * bpf_links of the XDP program on namespace B's interface. Found from the interface, never by
 * program name: other processes on the machine may run the same fixture at the same time.
 */
function xdpLinksOnB(net: NetnsPair): number[] {
  const shown = spawnSync("ip", ["-n", net.nsB, "-d", "link", "show", net.ifB], {
    encoding: "utf8",
  }).stdout;
  const prog = /\bprog\/xdp id (\d+)/.exec(shown);
  assert.ok(prog, `an XDP program on ${net.ifB}: ${shown}`);
  return linksOfProgram(Number(prog[1]))
    .filter((l) => l.type === "xdp")
    .map((l) => l.id);
}

const xdpOn = (net: NetnsPair): boolean =>
  /\bprog\/xdp\b|\bxdp(generic|drv)?\b/.test(
    spawnSync("ip", ["-n", net.nsB, "-d", "link", "show", net.ifB], { encoding: "utf8" }).stdout,
  );

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"] as const) {
  test(`tsbpf load -i: ${signal} leaves no XDP program and no bpf_link behind`, async (t) => {
    if (!needsKernel(t, netnsUnavailable())) return;
    using net = createNetnsPair();
    const cli = new CliProcess(["load", "-i", net.ifB, fixture("xdp_count.o")], net.nsB);
    try {
      await cli.waitFor((l) => l === "Loaded: xdp_count_prog, XDP");
      assert.ok(xdpOn(net), "ip link shows the XDP program");
      const ours = xdpLinksOnB(net);
      assert.equal(ours.length, 1, "one bpf_link holds it");
      assert.equal(net.ping("a", 2), 2, "traffic passes (XDP_PASS)");
      const r = await cli.stop(signal);
      if (signal === "SIGKILL") assert.equal(r.signal, "SIGKILL");
      else assert.deepEqual(r, { code: 0, signal: null }, cli.stderr);
      assert.ok(await eventually(() => !xdpOn(net)), "ip link shows no xdp");
      assert.ok(
        await eventually(() => !linkIds().includes(ours[0]!)),
        "bpftool link no longer lists it",
      );
      if (signal !== "SIGKILL") assert.equal(cli.stderr, "");
    } finally {
      await cli.stop("SIGKILL");
    }
  });
}

/** An HTTP server in namespace B on its veth address; resolves with its port. */
async function httpServer(net: NetnsPair) {
  const code = `const s = require("http").createServer((q, r) => r.end("ok")).listen(0, "${net.ipB}", () => console.log(s.address().port));`;
  const proc = spawn("ip", ["netns", "exec", net.nsB, process.execPath, "-e", code], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once("line", (l) => resolve(Number(l)));
    proc.once("exit", () => reject(new Error("HTTP server exited")));
  });
  return { port, [Symbol.dispose]: () => proc.kill("SIGKILL") };
}

function httpGet(net: NetnsPair, port: number, path: string): void {
  const code = `require("http").get("http://${net.ipB}:${port}${path}", (r) => { r.resume(); r.on("end", () => process.exit(0)); }).on("error", (e) => { console.error(e.message); process.exit(2); });`;
  net.exec("a", process.execPath, ["-e", code], { timeoutMs: 10_000 });
}

test("tsbpf load: SIGINT the moment `Loaded:` appears still detaches and exits 0", async (t) => {
  if (!needsKernel(t)) return;
  // The Loaded line used to be written before the handlers were installed: a reader that
  // interrupted at once hit Node's default SIGINT and the process died by the signal.
  for (let i = 0; i < 3; i++) {
    const cli = new CliProcess(["load", fixture("tp_openat.o")]);
    try {
      await cli.waitFor((l) => l === "Loaded: tp_openat_prog, TracePoint");
      assert.deepEqual(await cli.stop("SIGINT"), { code: 0, signal: null }, `run ${i + 1}`);
    } finally {
      await cli.stop("SIGKILL");
    }
  }
});

test("tsbpf load trace_http.o prints cargo-bpf's event hexdump with the request", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  using server = await httpServer(net);
  const cli = new CliProcess(["load", "-i", net.ifB, fixture("trace_http.o")], net.nsB);
  try {
    await cli.waitFor((l) => l === "Loaded: trace_http, XDP");
    const path = `/tsbpf-cli-${process.pid}`;
    httpGet(net, server.port, path);
    const want = Buffer.from(`GET ${path} HTTP/1.1`);
    // Events are `-- Event: requests --`, hexdump lines, then the total-length line.
    const events = () => {
      const out: string[][] = [];
      for (const l of cli.lines)
        if (l === "-- Event: requests --") out.push([]);
        else out[out.length - 1]?.push(l);
      return out;
    };
    await cli.waitFor(() => events().some((e) => unhexdump(e).includes(want)));
    const event = events().find((e) => unhexdump(e).includes(want))!;
    const bytes = unhexdump(event);
    for (const l of event.slice(0, -1))
      assert.match(l, /^\|[0-9a-f ]{1,35}\| +[ -~]{1,16} +[0-9a-f]{8}$/, "hexdump line format");
    assert.equal(event.at(-1)!.trim(), bytes.length.toString(16).padStart(8, "0"), "length line");
    // MapData<RequestInfo>: saddr is namespace A's address.
    assert.deepEqual([...bytes.subarray(0, 4)].join("."), net.ipA);
    assert.deepEqual(await cli.stop("SIGINT"), { code: 0, signal: null });
    assert.ok(await eventually(() => !xdpOn(net)), "detached on SIGINT");
  } finally {
    await cli.stop("SIGKILL");
  }
});

/**
 * A JSON-lines consumer, as `| jq -c .` would be: parses every line of its stdin, echoes it,
 * and exits 1 naming the first line that is not JSON.
 */
export const JSON_LINES = `
  const rl = require("node:readline").createInterface({ input: process.stdin });
  let n = 0;
  rl.on("line", (l) => {
    n++;
    try { JSON.parse(l); } catch { console.log("NOT JSON, line " + n + ": " + l); process.exit(1); }
    console.log(l);
  });`;

/** The pid of a child of `parent` whose command line contains `text` (no pgrep in the VM image). */
function childWith(parent: number, text: string): string {
  for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ");
      if (ppid === parent && cmd.includes(text)) return p;
    } catch {
      // gone meanwhile
    }
  }
  return "";
}

test("tsbpf load --json: stdout is JSON lines only (through a pipe), human lines on stderr", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  using server = await httpServer(net);
  // The pipeline a user types: tsbpf load --json … | a JSON parser (in a process group of its
  // own, so the finally below can end all of it).
  const pipeline = spawn(
    "bash",
    [
      "-c",
      `ip netns exec ${net.nsB} "${process.execPath}" "${BIN_PATH}" load --json -i ${net.ifB} ` +
        `"${fixture("trace_http_ringbuf.o")}" | "${process.execPath}" -e '${JSON_LINES}'`,
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let stderr = "";
  pipeline.stderr!.on("data", (d) => (stderr += String(d)));
  const lines: string[] = [];
  createInterface({ input: pipeline.stdout! }).on("line", (l) => lines.push(l));
  const exited = new Promise<number | null>((r) => pipeline.once("exit", (code) => r(code)));
  try {
    assert.ok(
      await eventually(() => stderr.includes("Loaded: trace_http, XDP\n"), 20_000),
      `the Loaded line on stderr: ${stderr}`,
    );
    const path = `/tsbpf-json-${process.pid}`;
    httpGet(net, server.port, path);
    const hit = (l: string) =>
      !l.startsWith("NOT JSON") && Buffer.from(JSON.parse(l).data, "hex").includes(`GET ${path}`);
    assert.ok(await eventually(() => lines.some(hit), 20_000), `the event: ${lines.join("\n")}`);
    const ev = JSON.parse(lines.find(hit)!) as { map: string; size: number; data: string };
    assert.equal(ev.map, "requests");
    assert.equal(ev.size, 532, "trace_http_ringbuf sends fixed 532-byte records");
    assert.equal(Buffer.from(ev.data, "hex").length, ev.size);
    // SIGTERM to tsbpf: it detaches and exits 0, the parser reads to the end of its input.
    const tsbpf = childWith(pipeline.pid!, "load --json");
    assert.match(tsbpf, /^\d+$/, "the tsbpf process of the pipeline");
    process.kill(Number(tsbpf), "SIGTERM");
    assert.equal(await exited, 0, `the parser read only JSON: ${lines.join("\n")}\n${stderr}`);
    assert.ok(await eventually(() => !xdpOn(net)), "detached on SIGTERM");
    assert.doesNotMatch(lines.join("\n"), /NOT JSON|Loaded/);
  } finally {
    if (pipeline.exitCode === null) process.kill(-pipeline.pid!, "SIGKILL");
  }
});

test("tsbpf load: user mistakes are one line and exit 1, bad usage exits 2", async (t) => {
  if (!needsKernel(t)) return;
  const run = (args: string[]) =>
    spawnSync(process.execPath, [BIN_PATH, ...args], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
  const cases: [string[], number, RegExp][] = [
    [["load", "/nonexistent.o"], 1, /^error: no such file: \/nonexistent\.o\n$/],
    [
      ["load", fixture("xdp_count.o")],
      1,
      /^error: XDP program xdp_count_prog needs an interface: pass -i IFACE\n$/,
    ],
    [["load", "-i", "tsbpf-no-such0", fixture("xdp_count.o")], 1, /^error: .*tsbpf-no-such0.*\n$/],
    [
      ["load", fixture("verifier_reject.o")],
      1,
      /^error: the kernel verifier rejected program no_bounds_check: invalid access to packet.*\n {2}at .*verifier_reject\.bpf\.c:21:\d+: if \(eth->h_proto == bpf_htons\(ETH_P_IP\)\)\n/,
    ],
    [["load", "--bogus", fixture("xdp_count.o")], 2, /unknown option '--bogus'/],
    [
      ["load", "--xdp-mode", "fast", "-i", "lo", fixture("xdp_count.o")],
      2,
      /argument 'fast' is invalid/,
    ],
  ];
  for (const [args, code, stderr] of cases) {
    const r = run(args);
    assert.equal(r.status, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, stderr, args.join(" "));
    assert.doesNotMatch(r.stderr, /internal error| {4}at /, "no stack trace");
    assert.equal(r.stdout, "");
  }
});

const BIN_PATH = new URL("../../../src/cli/bin.js", import.meta.url).pathname;

test("tsbpf load --binary --symbol: uprobe events as JSON; the hint names the flag", async (t) => {
  if (!needsKernel(t)) return;
  const cli = new CliProcess([
    "load",
    "--json",
    "--binary",
    fixture("uprobe_target"),
    "--symbol",
    "tsbpf_probe_target",
    fixture("uprobe.o"),
  ]);
  try {
    // --json: the Loaded lines are on stderr, stdout has only events.
    assert.ok(
      await eventually(() => cli.stderr.includes("Loaded: uprobe_return, URetProbe\n"), 20_000),
    );
    assert.match(cli.stderr, /^Loaded: uprobe_entry, UProbe$/m);
    const run = spawnSync(fixture("uprobe_target"), ["3"], { encoding: "utf8" });
    assert.equal(run.status, 0);
    const events = () => cli.lines.filter((l) => l.startsWith("{"));
    await cli.waitFor(() => events().length >= 6);
    // struct uprobe_event: pid, kind, a, b, ret; ours only (other processes do not call it).
    const decoded = events().map((l) => {
      const b = Buffer.from((JSON.parse(l) as { data: string }).data, "hex");
      return [b.readUInt32LE(4), b.readInt32LE(8), b.readInt32LE(12), Number(b.readBigInt64LE(16))];
    });
    assert.deepEqual(
      decoded.filter((e) => e[0] === 0).map((e) => [e[1], e[2]]),
      [
        [1, 10],
        [2, 20],
        [3, 30],
      ],
    );
    assert.deepEqual(
      decoded.filter((e) => e[0] === 1).map((e) => e[3]),
      [17, 47, 97],
    );
    for (const l of cli.lines) assert.doesNotThrow(() => JSON.parse(l), l);
    assert.deepEqual(await cli.stop("SIGINT"), { code: 0, signal: null });
  } finally {
    await cli.stop("SIGKILL");
  }
  const r = spawnSync(process.execPath, [BIN_PATH, "load", fixture("uprobe.o")], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /^(warning: [^\n]*\n)*error: UProbe program uprobe_entry needs a binary: pass --binary PATH\n$/,
  );
});
