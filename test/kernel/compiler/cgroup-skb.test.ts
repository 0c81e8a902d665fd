// A compiled cgroup_skb probe judged on a real cgroup: TCP connections to port 22 are refused
// at ingress, others pass, over IPv4 and IPv6. Test runs cannot show this on kernels whose
// BPF_PROG_TEST_RUN hides the packet from cgroup_skb programs (cgroup-test-run.ts); a real
// ingress run always computes the packet pointers, so this holds on every kernel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable } from "../../support/netns.js";
import { Collection } from "../../../src/load/collection.js";
import { attachCgroupSkb } from "../../../src/link/cgroup.js";
import { u32, u64 } from "../../../src/types/index.js";
import { compileSource } from "../../unit/compiler/support.js";

const PROBE = `
const Count = struct("Count", { n: u64 });
const denied = map("denied", new ArrayMap(Count, { maxEntries: 1 }));

/** Denies TCP to port 22 (and counts what it denied). */
export const no_ssh = cgroupSkb("ingress", (ctx) => {
  const t = ctx.packet().transport();
  if (t && t.protocol === "tcp" && t.dest() === 22) {
    const n = denied.get(0);
    if (n) atomicAdd(n, "n", 1);
    return SkAction.Drop;
  }
  return SkAction.Pass;
});
`;

/** Run in the namespace by a process inside the cgroup: listen on 22 and 80, connect to each. */
const CLIENT = `
const net = require("node:net");
const hosts = ["127.0.0.1", "::1"];
const ports = [22, 80];
const try1 = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port });
  const done = (r) => { clearTimeout(timer); s.destroy(); resolve(r); };
  const timer = setTimeout(() => done("timeout"), 3000);
  s.on("connect", () => done("connected"));
  s.on("error", (e) => done(e.code));
});
(async () => {
  const servers = [];
  for (const host of hosts)
    for (const port of ports)
      servers.push(await new Promise((resolve, reject) => {
        const srv = net.createServer((c) => c.destroy());
        srv.on("error", reject);
        srv.listen(port, host, () => resolve(srv));
      }));
  const out = {};
  await Promise.all(hosts.flatMap((h) => ports.map(async (p) => (out[h + " " + p] = await try1(h, p)))));
  for (const s of servers) s.close();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function cgroup2Root(): string | undefined {
  return /^\S+ (\S+) cgroup2 /m.exec(readFileSync("/proc/mounts", "utf8"))?.[1];
}

test("cgroup_skb probe on a real cgroup: TCP to 22 refused at ingress, TCP to 80 accepted, IPv4 and IPv6", (t) => {
  const root = cgroup2Root();
  if (!needsKernel(t, root ? netnsUnavailable() : "no cgroup2 mount")) return;
  using coll = Collection.load(compileSource(PROBE).elf);
  using net = createNetnsPair();
  net.exec("a", "ip", ["link", "set", "lo", "up"]);
  const cg = `${root}/tsbpf-cgskb-${process.pid}`;
  mkdirSync(cg);
  try {
    const result = (() => {
      using _link = attachCgroupSkb(coll.programs.get("no_ssh")!, cg, "ingress");
      // Sockets belong to the cgroup of the process that creates them: join it, then enter
      // the namespace (`ip netns exec` mounts a fresh /sys, without the cgroup2 tree).
      const r = spawnSync(
        "sh",
        [
          "-c",
          `echo $$ > ${cg}/cgroup.procs && exec ip netns exec ${net.nsA} "${process.execPath}" -e '${CLIENT}'`,
        ],
        { encoding: "utf8", timeout: 60_000 },
      );
      assert.equal(r.status, 0, `client failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Record<string, string>;
    })();
    assert.deepEqual(result, {
      "127.0.0.1 22": "timeout",
      "127.0.0.1 80": "connected",
      "::1 22": "timeout",
      "::1 80": "connected",
    });
    const n = u64.decode(coll.maps.get("denied")!.get(u32.encode(0) as never) as Uint8Array);
    assert.ok(n >= 2n, `at least one SYN to port 22 denied per family (counted ${n})`);
  } finally {
    // The client has exited; an empty cgroup can be removed (retry while the kernel lets go).
    for (let i = 0; i < 50 && existsSync(cg); i++) {
      try {
        rmdirSync(cg);
      } catch {
        spawnSync("sleep", ["0.05"]);
      }
    }
  }
});
