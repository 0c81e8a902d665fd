// The first line of a failure is the real one, and a missing capability is named: the real
// CLI on real objects as an unprivileged user (uid/gid 65534, no groups, through setpriv),
// with no capabilities, with CAP_BPF + CAP_PERFMON only, and with what each program kind
// needs on top; and as root with no native addon.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";
import { createNetnsPair, netnsUnavailable } from "../../support/netns.js";
import { CliProcess } from "./cli-process.js";

const BIN = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/** setpriv arguments: user nobody with exactly `caps` (e.g. "+bpf,+perfmon"), or none. */
const as = (caps = "") => [
  "setpriv",
  ...NOBODY,
  `--inh-caps=-all${caps && `,${caps}`}`,
  `--ambient-caps=-all${caps && `,${caps}`}`,
];

/** Objects in a directory user nobody can read (the fixtures may sit under root's home). */
function objects(t: import("node:test").TestContext, names: string[]): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-perm-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const out: Record<string, string> = {};
  for (const n of names) {
    out[n] = join(dir, n);
    copyFileSync(fixture(n), out[n]!);
    chmodSync(out[n]!, 0o644);
  }
  return out;
}

/** Why these tests cannot run here (no setpriv, or nobody cannot read the checkout). */
function unavailable(): string | undefined {
  const r = spawnSync("setpriv", [...NOBODY, "test", "-r", BIN], { encoding: "utf8" });
  if (r.error) return "setpriv (util-linux) is not installed";
  if (r.status !== 0) return `uid 65534 cannot read ${BIN}: put the checkout where others can read`;
  return undefined;
}

const run = (argv: string[]) =>
  spawnSync(argv[0]!, argv.slice(1), {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: "1", HOME: tmpdir() },
  });

/**
 * The first stderr line is the error, nothing (no BTF warning) before it, and no stack; the
 * second, when given, is what the whole object needs.
 */
function firstLineError(r: ReturnType<typeof run>, re: RegExp, second?: RegExp): void {
  assert.equal(r.status, 1, `exit 1: ${r.stderr}`);
  assert.equal(r.stdout, "");
  const [first, next] = r.stderr.split("\n");
  assert.match(first!, /^error: /, `the error comes first:\n${r.stderr}`);
  assert.match(first!, re);
  if (second) assert.match(next!, second);
  assert.doesNotMatch(r.stderr, /warning: |internal error| {4}at /);
}

test("not root, no capabilities: the first line names CAP_BPF and what to do", (t) => {
  if (!needsKernel(t, unavailable())) return;
  const o = objects(t, ["tp_openat.o", "xdp_count.o"]);
  const all = {
    "tp_openat.o":
      /^ {2}loading this object needs CAP_BPF \+ CAP_PERFMON( \+ CAP_DAC_READ_SEARCH \(tracepoint ids in root's tracefs\))?; this process lacks CAP_BPF, CAP_PERFMON(, CAP_DAC_READ_SEARCH)?$/,
    "xdp_count.o":
      /^ {2}loading this object needs CAP_BPF \+ CAP_PERFMON \+ CAP_NET_ADMIN \(XDP\); this process lacks CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN$/,
  };
  for (const [name, second] of Object.entries(all)) {
    const r = run([...as(), process.execPath, BIN, "load", "-i", "lo", o[name]!]);
    firstLineError(
      r,
      /BPF_MAP_CREATE .*EPERM .* needs CAP_BPF, and this process lacks CAP_BPF: run it as root \(sudo\), or grant it/,
      second,
    );
  }
});

test("CAP_BPF + CAP_PERFMON only: XDP names CAP_NET_ADMIN, tracepoints name tracefs", (t) => {
  if (!needsKernel(t, unavailable())) return;
  const o = objects(t, ["tp_openat.o", "xdp_count.o"]);
  const caps = as("+bpf,+perfmon");
  // No program is attached: the load fails before (XDP) or the attach is refused (tracefs).
  const xdp = run([...caps, process.execPath, BIN, "load", "-i", "lo", o["xdp_count.o"]!]);
  firstLineError(
    xdp,
    /cannot load program xdp_count_prog .*EPERM .*loading a XDP program needs CAP_BPF \+ CAP_NET_ADMIN, and this process lacks CAP_NET_ADMIN: run it as root/,
    /^ {2}loading this object needs CAP_BPF \+ CAP_PERFMON \+ CAP_NET_ADMIN \(XDP\); this process lacks CAP_NET_ADMIN$/,
  );

  const idFile = "/sys/kernel/tracing/events/syscalls/sys_enter_openat/id";
  const readable = spawnSync("setpriv", [...NOBODY, "test", "-r", idFile]).status === 0;
  if (readable) {
    // A machine whose tracefs others may read: the tracepoint needs nothing more.
    t.diagnostic(`${idFile} is readable by uid 65534 here: the tracepoint attaches`);
    const r = spawnSync(
      "timeout",
      ["-s", "INT", "3", ...caps, process.execPath, BIN, "load", o["tp_openat.o"]!],
      {
        encoding: "utf8",
      },
    );
    assert.match(r.stdout, /^Loaded: tp_openat_prog, TracePoint$/m, r.stderr);
    return;
  }
  const tp = run([...caps, process.execPath, BIN, "load", o["tp_openat.o"]!]);
  firstLineError(
    tp,
    /tracefs \(\/sys\/kernel\/(debug\/)?tracing\/events\/syscalls\/sys_enter_openat\/id\) failed: EACCES .*needs CAP_DAC_READ_SEARCH, and this process lacks CAP_DAC_READ_SEARCH: run it as root/,
    /^ {2}loading this object needs CAP_BPF \+ CAP_PERFMON \+ CAP_DAC_READ_SEARCH \(tracepoint ids in root's tracefs\); this process lacks CAP_DAC_READ_SEARCH$/,
  );
});

test("without CAP_PERFMON the verifier's '!root' refusal gets a hint naming it", (t) => {
  if (!needsKernel(t, unavailable() ?? netnsUnavailable())) return;
  const o = objects(t, ["trace_http.o"]);
  using net = createNetnsPair();
  const r = run([
    "ip",
    "netns",
    "exec",
    net.nsB,
    ...as("+bpf,+net_admin"),
    process.execPath,
    BIN,
    "load",
    "-i",
    net.ifB,
    o["trace_http.o"]!,
  ]);
  assert.equal(r.status, 1, r.stderr);
  const [first, at, hint] = r.stderr.split("\n");
  assert.match(
    first!,
    /^error: the kernel verifier rejected program trace_http: .*prohibited for !root/,
  );
  assert.match(at!, /^ {2}at .*trace_http\.h:\d+:\d+: /);
  assert.match(
    hint!,
    /^ {2}hint: the verifier treated this process as unprivileged: it lacks CAP_PERFMON, .*run it as root \(sudo\), or grant CAP_BPF \+ CAP_PERFMON/,
  );
});

test("what the hints name is enough: XDP with +CAP_NET_ADMIN, tracepoints with +CAP_DAC_READ_SEARCH", async (t) => {
  if (!needsKernel(t, unavailable() ?? netnsUnavailable())) return;
  const o = objects(t, ["tp_openat.o", "xdp_count.o"]);
  using net = createNetnsPair();
  // XDP on the test namespace's own interface, as user nobody with three capabilities.
  const cli = new CliProcess(
    ["load", "-i", net.ifB, o["xdp_count.o"]!],
    net.nsB,
    as("+bpf,+perfmon,+net_admin"),
  );
  try {
    assert.equal(await cli.waitFor((l) => l.startsWith("Loaded: ")), "Loaded: xdp_count_prog, XDP");
    const link = spawnSync("ip", ["-n", net.nsB, "-d", "link", "show", net.ifB], {
      encoding: "utf8",
    });
    assert.match(link.stdout, /prog\/xdp id \d+/, "attached");
    assert.equal(net.ping("a", 1), 1, "traffic passes (XDP_PASS)");
    assert.deepEqual(await cli.stop("SIGINT"), { code: 0, signal: null }, cli.stderr);
  } finally {
    await cli.stop("SIGKILL");
  }
  const tp = new CliProcess(
    ["load", o["tp_openat.o"]!],
    undefined,
    as("+bpf,+perfmon,+dac_read_search"),
  );
  try {
    assert.equal(
      await tp.waitFor((l) => l.startsWith("Loaded: ")),
      "Loaded: tp_openat_prog, TracePoint",
    );
    // openat calls of our own: a quiet machine may make none while we wait
    const opener = setInterval(() => readFileSync("/proc/self/stat"), 50);
    try {
      await tp.waitFor((l) => l === "-- Event: events --");
    } finally {
      clearInterval(opener);
    }
    assert.deepEqual(await tp.stop("SIGINT"), { code: 0, signal: null }, `tp: ${tp.stderr}`);
  } finally {
    await tp.stop("SIGKILL");
  }
});

test("no native addon: its error is the first line, no BTF warning before it", (t) => {
  if (!needsKernel(t)) return;
  // A copy of the package without build/ (and without any prebuilt addon).
  const pkg = mkdtempSync(join(tmpdir(), "tsbpf-noaddon-"));
  t.after(() => rmSync(pkg, { recursive: true, force: true }));
  mkdirSync(join(pkg, "dist"));
  cpSync(join(ROOT, "dist/src"), join(pkg, "dist/src"), { recursive: true });
  copyFileSync(join(ROOT, "package.json"), join(pkg, "package.json"));
  symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"));
  const r = run([
    process.execPath,
    join(pkg, "dist/src/cli/bin.js"),
    "load",
    fixture("tp_openat.o"),
  ]);
  firstLineError(r, /addon/);
});
