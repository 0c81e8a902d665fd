// The HTTP tracer end to end, as `make demo` runs it: two namespaces joined by a veth pair, an
// HTTP server and the example loader in one, real requests from the other. For each variant of
// the probe (perf map / ring buffer; TypeScript-built / clang-built reference) it asserts the
// exact line printed for each request over IPv4 and IPv6, silence for non-HTTP TCP and UDP,
// accounting of a 10,000-request burst (2,000 on a slow guest; also with the loader paused so
// the rings overflow), and that nothing stays loaded, attached or created.
import { test, before, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bpftoolJson } from "../../support/bpftool.js";
import { needsKernel, kernelUnavailable } from "../../support/kernel.js";
import { scaled, timeScale } from "../../support/time-scale.js";
import { Sandbox, run, type NsProcess } from "../../../examples/trace_http/sandbox.js";
import type { HttpRequest } from "../../../examples/trace_http/client.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const LOADER = join(root, "dist/examples/trace_http/loader.js");
const TSBPF = join(root, "dist/src/cli/bin.js");
const FIXTURES = join(root, "test/fixtures/obj");
const PORT = 8080;
// A slow guest (TCG) sends 10,000 requests in 80-350 s, not 3 s: there 2,000, which still
// overflow every ring of a paused loader (perf: ~700 samples per CPU; ring buffer: ~490).
const BURST = timeScale() > 1 ? 2_000 : 10_000;
const CPUS = Array.from({ length: availableParallelism() }, (_, i) => i);

interface Variant {
  name: string;
  /** the probe source (TypeScript variants, built by `tsbpf build` before the tests) */
  source?: string;
  /** the object file (clang variants) */
  object?: string;
  /** a ring buffer keeps one order for all CPUs; perf rings are per CPU */
  ordered: boolean;
  /** known not to work yet, and why: its tests run but do not fail the suite */
  todo?: string;
}

const variants: Variant[] = [
  {
    name: "perf map, TypeScript probe (probe.ts)",
    source: "examples/trace_http/probe.ts",
    ordered: false,
  },
  {
    name: "perf map, clang reference (c/trace_http.bpf.c)",
    object: join(FIXTURES, "trace_http.o"),
    ordered: false,
  },
  {
    name: "ring buffer, TypeScript probe (probe_ringbuf.ts)",
    source: "examples/trace_http/probe_ringbuf.ts",
    ordered: true,
  },
  {
    name: "ring buffer, clang reference (c/trace_http_ringbuf.bpf.c)",
    object: join(FIXTURES, "trace_http_ringbuf.o"),
    ordered: true,
  },
];

/** Built objects (or why the build failed) by probe source. */
const built = new Map<string, { elf?: string; error?: string }>();

before(() => {
  if (kernelUnavailable()) return;
  const outDir = mkdtempSync(join(tmpdir(), "tsbpf-e2e-"));
  process.once("exit", () => rmSync(outDir, { recursive: true, force: true }));
  for (const { source } of variants) {
    if (!source) continue;
    const r = spawnSync(process.execPath, [TSBPF, "build", source, "-o", outDir], {
      cwd: root,
      encoding: "utf8",
    });
    const name = source.endsWith("/probe.ts") ? "trace_http" : "probe_ringbuf";
    built.set(
      source,
      r.status === 0
        ? { elf: join(outDir, name, `${name}.elf`) }
        : { error: `tsbpf build ${source} failed:\n${r.stdout}${r.stderr}` },
    );
  }
});

function elfOf(v: Variant): string {
  if (v.object) return v.object;
  const b = built.get(v.source!);
  assert.ok(b?.elf, b?.error ?? `${v.source} was not built`);
  return b.elf;
}

/** Starts the loader on the server side; resolves once the probe is attached. */
async function startLoader(sb: Sandbox, elf: string): Promise<NsProcess> {
  const loader = sb.spawn("server", [process.execPath, LOADER, sb.server.iface, elf]);
  assert.equal(await loader.waitFor(/^Loaded: /), "Loaded: trace_http, XDP");
  return loader;
}

/** What is loaded for the attached program: its id and its maps' ids. */
function attached(sb: Sandbox): { prog: number; maps: number[] } {
  const prog = sb.xdpProgramId();
  assert.ok(prog !== undefined, "an XDP program is attached to the server's interface");
  const info = JSON.parse(run("bpftool", ["prog", "show", "id", String(prog), "-j"])) as {
    map_ids?: number[];
  };
  return { prog, maps: info.map_ids ?? [] };
}

/** After the loader exited: the program, its maps and its link are gone from the kernel. */
async function assertNothingLeft(sb: Sandbox, ids: { prog: number; maps: number[] }) {
  assert.equal(sb.xdpProgramId(), undefined, "no XDP program on the interface");
  const gone = (kind: "prog" | "map", id: number) =>
    spawnSync("bpftool", [kind, "show", "id", String(id)], { stdio: "ignore" }).status !== 0;
  // The kernel frees programs and maps after an RCU grace period: allow it a moment.
  for (let i = 0; i < 50; i++) {
    if (gone("prog", ids.prog) && ids.maps.every((m) => gone("map", m))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(gone("prog", ids.prog), `program ${ids.prog} is unloaded`);
  for (const m of ids.maps) assert.ok(gone("map", m), `map ${m} is freed`);
  const links = bpftoolJson(["link", "show"]) as { prog_id: number }[];
  assert.ok(!links.some((l) => l.prog_id === ids.prog), "no bpf_link left for the program");
}

function assertNamespacesGone(sb: Sandbox): void {
  const list = run("ip", ["netns", "list"]);
  for (const ns of [sb.server.ns, sb.client.ns]) assert.ok(!list.includes(ns), `${ns} removed`);
}

/** Lines of the loader so far, without the `Loaded:` line. */
const requestLines = (p: NsProcess) => p.stdout.filter((l) => !l.startsWith("Loaded: "));

/** Total of the `lost N requests: …` lines the loader printed on stderr. */
function lostCount(p: NsProcess): number {
  let n = 0;
  for (const l of p.stderr) {
    const m = /^lost (\d+) requests: /.exec(l);
    assert.ok(m, `unexpected stderr line from the loader: ${l}`);
    n += Number(m[1]);
  }
  return n;
}

/**
 * TCP segments the client namespace retransmitted. The probe reports packets: a request whose
 * segment TCP sent again (a slow machine can let the retransmission timer expire) is seen,
 * and printed, twice — correctly. So a repeated line is allowed only for a retransmission.
 */
function clientRetransmits(sb: Sandbox): number {
  const tcp = run("ip", ["netns", "exec", sb.client.ns, "cat", "/proc/net/snmp"])
    .split("\n")
    .filter((l) => l.startsWith("Tcp:"))
    .map((l) => l.trim().split(/\s+/));
  const at = tcp[0]?.indexOf("RetransSegs") ?? -1;
  assert.ok(at > 0 && tcp[1]?.[at] !== undefined, "/proc/net/snmp has Tcp: RetransSegs");
  return Number(tcp[1][at]);
}

function assertRetransmitted(sb: Sandbox, repeats: number): void {
  if (repeats === 0) return;
  const retransmits = clientRetransmits(sb);
  assert.ok(
    repeats <= retransmits,
    `${repeats} lines printed again, but the client retransmitted only ${retransmits} TCP segments`,
  );
}

/** The lines without repeats (first occurrence kept), and how many repeats there were. */
function dedupe(lines: readonly string[]): { unique: string[]; repeats: number } {
  const unique = [...new Set(lines)];
  return { unique, repeats: lines.length - unique.length };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests of every method on several paths over both address families print exactly. */
async function requests(sb: Sandbox, v: Variant): Promise<void> {
  const { server: srv, client: cli } = sb;
  await sb.httpServer(PORT);
  const loader = await startLoader(sb, elfOf(v));
  const ids = attached(sb);

  const http: HttpRequest[] = [];
  const paths = ["/", "/where-has-the-time-gone?", "/api/items/42?x=1&y=%20", "/a/b/c.html"];
  for (const host of [srv.v4, srv.v6])
    for (const method of ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"])
      for (const path of paths) http.push([method, host, path]);
  const expected = http.map(
    ([method, host, path]) => `${host === srv.v4 ? cli.v4 : cli.v6} - ${method} ${path} HTTP/1.1`,
  );
  // Then what must print nothing: TCP that is not an HTTP request, and UDP that looks like one.
  const notHttp = [
    "SSH-2.0-OpenSSH_9.6\r\n",
    "HELLO / HTTP/1.1\r\n\r\n",
    "GETX / HTTP/1.1\r\n\r\n",
    "get / HTTP/1.1\r\n\r\n",
    "DELETX /x HTTP/1.1\r\n\r\n",
    "PATCHY /x HTTP/1.1\r\n\r\n",
    "GET", // shorter than the 6 bytes the probe reads
  ];
  await sb.send({
    port: PORT,
    http,
    tcp: [srv.v4, srv.v6].flatMap((host) => notHttp.map((text) => ({ host, port: PORT, text }))),
    udp: [srv.v4, srv.v6].flatMap((host) =>
      [PORT, 9].map((port) => ({ host, port, text: "GET / HTTP/1.1\r\n\r\n" })),
    ),
  });
  // A last request marks the end: once its line is out, everything before it was seen.
  await sb.send({ port: PORT, http: [["GET", srv.v4, "/the-end"]] });
  expected.push(`${cli.v4} - GET /the-end HTTP/1.1`);
  await loader.until(
    () => {
      const seen = new Set(requestLines(loader));
      return expected.every((l) => seen.has(l));
    },
    "the lines",
    scaled(10_000),
  );
  await sleep(300); // room for a wrong extra line to show up

  assert.equal(await loader.stop("SIGINT"), 0, "Ctrl-C exits 0");
  const { unique: lines, repeats } = dedupe(requestLines(loader));
  assertRetransmitted(sb, repeats);
  if (v.ordered) assert.deepEqual(lines, expected);
  else assert.deepEqual([...lines].sort(), [...expected].sort());
  assert.deepEqual(loader.stderr, []);
  await assertNothingLeft(sb, ids);
}

const FLUSH_LINE = /^10\.200\.0\.2 - GET \/flush\/\d+\/\d+ HTTP\/1\.1$/;

/**
 * Sends one request from each CPU and waits for its line: the kernel reports a perf ring's
 * losses with the next sample written to that ring, so once a CPU's request is printed, every
 * earlier request from that CPU was printed or counted lost. A loader resumed after a pause may
 * still be draining a full ring when the request arrives (on a slow machine for seconds), so
 * that request can be lost as well, and counted: send another until one is printed.
 * Returns how many requests were sent.
 */
async function flush(sb: Sandbox, loader: NsProcess): Promise<number> {
  let sent = 0;
  for (const cpu of CPUS) {
    for (let attempt = 0; ; attempt++) {
      const path = `/flush/${cpu}/${attempt}`;
      await sb.send({ port: PORT, http: [["GET", sb.server.v4, path]] }, { cpu });
      sent++;
      const line = `${sb.client.v4} - GET ${path} HTTP/1.1`;
      try {
        const ms = scaled(1_000);
        await loader.until(() => loader.stdout.includes(line), `the line of ${path}`, ms);
        break;
      } catch (e) {
        if (!loader.running || attempt === FLUSH_ATTEMPTS - 1) throw e;
      }
    }
  }
  return sent;
}

/** Flush requests per CPU before giving up: 1 s each (scaled), half a minute in all. */
const FLUSH_ATTEMPTS = 30;

/**
 * Sends BURST requests and checks that every one is either printed once (again only for a TCP
 * retransmission) or counted in the loader's `lost N requests` lines. With `paused`, the loader is stopped (SIGSTOP)
 * during the burst, so its rings fill up and the kernel (perf) or the probe (ring buffer)
 * must count what did not fit.
 */
async function burst(t: TestContext, sb: Sandbox, v: Variant, paused: boolean): Promise<void> {
  await sb.httpServer(PORT);
  const loader = await startLoader(sb, elfOf(v));
  const ids = attached(sb);
  const http = Array.from({ length: BURST }, (_, i): HttpRequest => [
    "GET",
    i % 2 ? sb.server.v6 : sb.server.v4,
    `/burst/${i}`,
  ]);
  const t0 = performance.now();
  if (paused) loader.pause(true);
  await sb.send({ port: PORT, http, concurrency: 8 }, { ms: scaled(120_000) });
  const sendMs = performance.now() - t0;
  if (paused) loader.pause(false);
  const flushSent = await flush(sb, loader);
  await sleep(300); // room for a late or wrong line to show up
  assert.equal(await loader.stop("SIGINT"), 0, "Ctrl-C exits 0");
  const printed = requestLines(loader);
  const flushed = printed.filter((l) => FLUSH_LINE.test(l)).length;
  const all = printed.filter((l) => !FLUSH_LINE.test(l));
  const { unique: lines, repeats } = dedupe(all);
  const lost = lostCount(loader); // the ring buffer variant reports its count on exit
  const retransmits = clientRetransmits(sb);
  t.diagnostic(
    `${BURST} requests in ${Math.round(sendMs)} ms${paused ? " (loader paused)" : ""}: ` +
      `${all.length} lines (${repeats} repeated), ${lost} lost; ` +
      `${flushed} of ${flushSent} flush requests printed; ${retransmits} TCP retransmits`,
  );
  // Every request sent, flush requests included, is printed or counted lost; a packet is
  // seen once more for each retransmission (on an idle machine: none, and the count is exact).
  const seen = all.length + flushed + lost;
  const sent = BURST + flushSent;
  assert.ok(
    seen >= sent && seen <= sent + retransmits,
    `${all.length} lines + ${flushed} flush lines + ${lost} lost = ${seen}; ` +
      `sent ${sent}, ${retransmits} TCP retransmits`,
  );
  assert.ok(repeats <= retransmits, `${repeats} lines repeated, ${retransmits} retransmits`);
  if (paused) assert.ok(lost > 0, "a paused loader loses requests");
  // Each printed line is one of the burst's requests, from the address it was sent over.
  for (const l of lines) {
    const m = /^(10\.200\.0\.2|fd00:200::2) - GET \/burst\/(\d+) HTTP\/1\.1$/.exec(l);
    assert.ok(m && Number(m[2]) < BURST, `unexpected line: ${l}`);
    assert.equal(m[1], Number(m[2]) % 2 ? sb.client.v6 : sb.client.v4);
  }
  assert.ok(lines.length + lost >= BURST, `${lines.length} requests printed, ${lost} lost`);
  await assertNothingLeft(sb, ids);
}

/** Runs `body` in a fresh sandbox; afterwards its namespaces must be gone. */
async function inSandbox(body: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = Sandbox.create();
  try {
    await body(sb);
  } finally {
    sb.close();
  }
  assertNamespacesGone(sb);
}

for (const v of variants) {
  const opts = v.todo ? { todo: v.todo } : {};
  test(`trace_http e2e, ${v.name}: one exact line per request, IPv4 and IPv6`, opts, async (t) => {
    if (!needsKernel(t)) return;
    await inSandbox((sb) => requests(sb, v));
  });
  for (const paused of [false, true])
    test(
      `trace_http e2e, ${v.name}: a burst of requests is printed or counted lost` +
        (paused ? " (loader paused: the rings overflow)" : ""),
      opts,
      async (t) => {
        if (!needsKernel(t)) return;
        await inSandbox((sb) => burst(t, sb, v, paused));
      },
    );
}
