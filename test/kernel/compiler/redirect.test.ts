// redirect() for real: a TypeScript TC or XDP probe on a router namespace's veth moves UDP
// frames out of the router's other veth, and the receiver behind it gets them. Topology,
// all namespaces made (and deleted) here:
//
//   ns A  a0 10.77.0.1/24 ==veth== r0  ns R  r1 ==veth== b0 10.77.0.2/24  ns B
//
// R has no addresses, no bridge and no forwarding, so nothing crosses it unless the probe on
// r0 redirects it. A sends to B's address with B's MAC (a static neighbour entry), so a frame
// that reaches b0 is accepted by B's stack.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { netnsUnavailable } from "../../support/netns.js";
import { compileSource } from "../../unit/compiler/support.js";

const PROBE = `
import { program, map, xdp, tc, ArrayMap, XdpAction, TcAction, redirect, atomicAdd } from "tsbpf/probe";
import { struct, u32, u64 } from "tsbpf/types";
program({ license: "GPL" });

const Config = struct("Config", { ifindex: u32 });
const Count = struct("Count", { n: u64 });
const config = map("config", new ArrayMap(Config, { maxEntries: 1 }));
const counts = map("counts", new ArrayMap(Count, { maxEntries: 1 }));

/** UDP to port 4242 leaves through config.ifindex; everything else goes up the stack. */
export const xdp_redirect = xdp((ctx) => {
  const cfg = config.get(0);
  const t = ctx.transport();
  if (!cfg || !t || t.protocol !== "udp" || t.dest() !== 4242) return XdpAction.Pass;
  const c = counts.get(0);
  if (c) atomicAdd(c, "n", 1);
  return redirect(cfg.ifindex, 0);
});

export const tc_redirect = tc((ctx) => {
  const cfg = config.get(0);
  const t = ctx.packet().transport();
  if (!cfg || !t || t.protocol !== "udp" || t.dest() !== 4242) return TcAction.Ok;
  const c = counts.get(0);
  if (c) atomicAdd(c, "n", 1);
  return redirect(cfg.ifindex, 0);
});
`;

const CHILD = fileURLToPath(new URL("./redirect-child.js", import.meta.url));
const IP_A = "10.77.0.1";
const IP_B = "10.77.0.2";
const COUNT = 5;

function ip(args: string[]): string {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 20_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

interface Topology extends Disposable {
  a: string;
  r: string;
  b: string;
}

function topology(): Topology {
  const id = `${process.pid}`;
  const [a, r, b] = ["a", "r", "b"].map((n) => `tsbpf-rd-${id}-${n}`) as [string, string, string];
  const t: Topology = {
    a,
    r,
    b,
    [Symbol.dispose]() {
      for (const ns of [a, r, b]) spawnSync("ip", ["netns", "del", ns]);
    },
  };
  try {
    for (const ns of [a, r, b]) ip(["netns", "add", ns]);
    ip(["-n", a, "link", "add", "a0", "type", "veth", "peer", "name", "r0", "netns", r]);
    ip(["-n", b, "link", "add", "b0", "type", "veth", "peer", "name", "r1", "netns", r]);
    ip(["-n", a, "addr", "add", `${IP_A}/24`, "dev", "a0"]);
    ip(["-n", b, "addr", "add", `${IP_B}/24`, "dev", "b0"]);
    for (const [ns, dev] of [
      [a, "a0"],
      [r, "r0"],
      [r, "r1"],
      [b, "b0"],
      [a, "lo"],
      [b, "lo"],
    ] as const)
      ip(["-n", ns, "link", "set", dev, "up"]);
    const macB = (
      JSON.parse(ip(["-n", b, "-j", "link", "show", "b0"])) as { address: string }[]
    )[0]!.address;
    ip(["-n", a, "neigh", "add", IP_B, "lladdr", macB, "dev", "a0", "nud", "permanent"]);
  } catch (e) {
    t[Symbol.dispose]();
    throw e;
  }
  return t;
}

/**
 * A UDP receiver on B:4242 (resolves once bound). `until(n, ms)` waits until n datagrams
 * arrived or ms passed, then stops the receiver and returns what arrived.
 */
async function receiver(ns: string) {
  const code = `
    const s = require("node:dgram").createSocket("udp4");
    s.on("message", (m) => console.log(m.toString()));
    s.bind(4242, "${IP_B}", () => console.log("bound"));
    process.stdin.on("end", () => process.exit(0)).resume();`;
  const p = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", code], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const got: string[] = [];
  let wake = () => {};
  let bound!: () => void;
  const isBound = new Promise<void>((res) => (bound = res));
  createInterface({ input: p.stdout }).on("line", (l) => {
    if (l === "bound") bound();
    else got.push(l);
    wake();
  });
  const exited = new Promise((res) => p.once("exit", res));
  await Promise.race([isBound, exited.then(() => assert.fail("the receiver exited unbound"))]);
  return {
    async until(n: number, ms: number): Promise<string[]> {
      const deadline = Date.now() + ms;
      while (got.length < n && Date.now() < deadline)
        await new Promise<void>((res) => {
          wake = res;
          setTimeout(res, 50);
        });
      p.stdin.end();
      await exited;
      return got.sort();
    },
  };
}

/** Send COUNT datagrams from A to B:4242 tagged with `tag`. */
function send(ns: string, tag: string): void {
  const code = `
    const s = require("node:dgram").createSocket("udp4");
    let n = 0;
    const next = () => n === ${COUNT} ? s.close() : s.send("${tag}-" + n++, 4242, "${IP_B}", next);
    next();`;
  const r = spawnSync("ip", ["netns", "exec", ns, process.execPath, "-e", code], {
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.equal(r.status, 0, `sender failed: ${r.stderr}`);
}

/** Datagrams tagged `tag` sent from A that reached B (waiting for `want` of them, at most 10 s). */
async function across(t: Topology, tag: string, want: number): Promise<string[]> {
  const rx = await receiver(t.b);
  send(t.a, tag);
  // Frames that cross do so within milliseconds; a second shows that none will.
  return rx.until(want, want > 0 ? 10_000 : 1000);
}

const expected = (tag: string) => Array.from({ length: COUNT }, (_, i) => `${tag}-${i}`);

/** The child attaching `program` in R; stop() returns how many frames the probe redirected. */
async function attachInRouter(t: Topology, elf: string, program: string) {
  const p = spawn(
    "ip",
    [
      "netns",
      "exec",
      t.r,
      process.execPath,
      CHILD,
      JSON.stringify({ elf, program, from: "r0", to: "r1" }),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const it = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const ready = JSON.parse(String((await it.next()).value)) as { ready?: boolean; error?: string };
  assert.ok(ready.ready, `the router child attached ${program}: ${ready.error}`);
  return {
    async stop(): Promise<number> {
      p.stdin.write("stop\n");
      const r = JSON.parse(String((await it.next()).value)) as { redirected: number };
      await new Promise((res) => p.once("exit", res));
      return r.redirected;
    },
    kill: () => p.kill(),
  };
}

test("redirect() from TypeScript TC and XDP probes moves UDP frames across a router namespace", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-redirect-"));
  const elf = join(dir, "redirect.elf");
  writeFileSync(elf, compileSource(PROBE, { raw: true }).elf);
  try {
    using topo = topology();
    // Without a probe nothing crosses R.
    assert.deepEqual(await across(topo, "none", 0), []);
    for (const program of ["tc_redirect", "xdp_redirect"]) {
      const child = await attachInRouter(topo, elf, program);
      try {
        assert.deepEqual(
          await across(topo, program, COUNT),
          expected(program),
          `${program} delivered`,
        );
      } finally {
        const n = await child.stop().catch((e: unknown) => {
          child.kill();
          throw e;
        });
        assert.equal(n, COUNT, `${program} redirected each datagram once`);
      }
      // Detached with the child: nothing crosses again.
      assert.deepEqual(await across(topo, `${program}-after`, 0), [], `${program} detached`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
