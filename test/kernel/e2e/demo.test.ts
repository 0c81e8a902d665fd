// `make demo`'s program (examples/trace_http/demo.ts): it runs through, and it removes what it
// created — namespaces, processes, the attached probe — also when interrupted.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const DEMO = join(root, "dist/examples/trace_http/demo.js");
const TSBPF = join(root, "dist/src/cli/bin.js");
let ELF = "";

// As scripts/demo.sh does: the TypeScript probe, built by `tsbpf build`.
before(() => {
  const out = mkdtempSync(join(tmpdir(), "tsbpf-demo-"));
  process.once("exit", () => rmSync(out, { recursive: true, force: true }));
  const r = spawnSync(
    process.execPath,
    [TSBPF, "build", join(root, "examples/trace_http/probe.ts"), "-o", out],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  ELF = join(out, "trace_http/trace_http.elf");
});

const namespacesOf = (pid: number) =>
  spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter((l) => l.includes(`-${pid}`));

/** Runs the demo; `interruptOn` sends it SIGINT when a line matches, `onInterrupt` first. */
function runDemo(
  interruptOn?: RegExp,
  onInterrupt?: (pid: number) => void,
): Promise<{ code: number | null; out: string; pid: number }> {
  const child = spawn(process.execPath, [DEMO, ELF], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    if (interruptOn?.test(out)) {
      interruptOn = undefined;
      onInterrupt?.(child.pid!);
      child.kill("SIGINT");
    }
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  return new Promise((resolve) =>
    child.on("close", (code) => resolve({ code, out, pid: child.pid! })),
  );
}

test("demo: prints a line per request and the tsbpf load hexdump, then cleans up", async (t) => {
  if (!needsKernel(t)) return;
  const { code, out, pid } = await runDemo();
  assert.equal(code, 0, out);
  for (const line of [
    "   Loaded: trace_http, XDP",
    "   10.200.0.2 - GET /where-has-the-time-gone? HTTP/1.1",
    "   10.200.0.2 - DELETE /api/items/42 HTTP/1.1",
    "   10.200.0.2 - PATCH /api/items/42 HTTP/1.1",
    "   10.200.0.2 - OPTIONS /api HTTP/1.1",
    "   fd00:200::2 - GET /over/ipv6 HTTP/1.1",
    "== 9 requests sent from tsbpf-cli-" + pid + ", 9 lines printed",
    "   -- Event: requests --",
    "== done; removing the namespaces",
  ])
    assert.ok(out.includes(`${line}\n`), `missing line ${JSON.stringify(line)} in:\n${out}`);
  assert.match(out, /^ {3}\|[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8}\| .{16} 00000000$/m);
  assert.deepEqual(namespacesOf(pid), []);
});

test("demo: Ctrl-C while the probe is attached removes everything, exit 130", async (t) => {
  if (!needsKernel(t)) return;
  let prog: string | undefined;
  const { code, out, pid } = await runDemo(/Loaded: trace_http, XDP\n/, (demo) => {
    const link = spawnSync("ip", ["-n", `tsbpf-srv-${demo}`, "link", "show", "dev", "veth-srv"], {
      encoding: "utf8",
    });
    prog = /prog\/xdp id (\d+)/.exec(link.stdout)?.[1];
  });
  assert.equal(code, 130, out);
  assert.ok(prog, "the probe was attached when the demo was interrupted");
  assert.match(out, /== SIGINT: removing the namespaces/);
  assert.deepEqual(namespacesOf(pid), []);
  // The loader was killed with its namespace: its program is unloaded (no pins, no links).
  const loaded = () => spawnSync("bpftool", ["prog", "show", "id", prog!]).status === 0;
  for (let i = 0; i < 100 && loaded(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!loaded(), `program ${prog} is still loaded after the demo was interrupted`);
});
