// Network zoo ports on real traffic between two namespaces created here (names carry the
// pid, test/support/netns.ts):
// - xdp-tutorial's ICMP echo reflector (packet03) on B answers A's pings to an address no
//   stack owns; A's ping counts the replies only if their checksums are right;
// - the Katran-style load balancer on B encapsulates A's TCP SYN to a VIP in IPIP towards a
//   real and sends it back out (XDP_TX); a packet socket on A captures the IPIP frame.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { checksumOk } from "../../support/frames.js";
import { createNetnsPair, netnsUnavailable, type NetnsPair } from "../../support/netns.js";
import { KATRAN, katranMaps } from "../../../bench/compiler/zoo/net/index.js";
import { buildPort } from "./support.js";

const CHILD = fileURLToPath(new URL("./attach-child.js", import.meta.url));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

async function attachIn(net: NetnsPair, elf: string, maps?: Record<string, [string, string][]>) {
  const p = spawn(
    "ip",
    [
      "netns",
      "exec",
      net.nsB,
      process.execPath,
      CHILD,
      JSON.stringify({ elf, iface: net.ifB, how: "xdp", maps }),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const it = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const ready = JSON.parse(String((await it.next()).value)) as { ready?: boolean; error?: string };
  assert.ok(ready.ready, `attached: ${ready.error}`);
  const exited = new Promise((res) => p.once("exit", res));
  return {
    async stop() {
      p.stdin.write("stop\n");
      await exited;
    },
  };
}

function macOf(net: NetnsPair, ns: "a" | "b"): string {
  const r = net.exec(ns, "ip", ["-j", "link", "show", ns === "a" ? net.ifA : net.ifB]);
  return (JSON.parse(r.stdout) as { address: string }[])[0]!.address;
}

test("packet03 echo reflector answers real pings from another namespace", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-zoo-net-"));
  try {
    using net = createNetnsPair();
    const ghost = net.ipB.replace(/\.2$/, ".9");
    net.exec("a", "ip", [
      "neigh",
      "add",
      ghost,
      "lladdr",
      macOf(net, "b"),
      "dev",
      net.ifA,
      "nud",
      "permanent",
    ]);
    const ping = () => {
      const r = net.exec("a", "ping", ["-c", "3", "-i", "0.2", "-W", "1", ghost], {
        allowFail: true,
      });
      return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
    };
    assert.equal(ping(), 0, "nobody owns the address");
    const elf = join(dir, "echo.elf");
    writeFileSync(elf, await buildPort("tutorial_packet03_echo"));
    const child = await attachIn(net, elf);
    try {
      assert.equal(ping(), 3, "every ping answered by the reflector");
    } finally {
      await child.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("katran_lb encapsulates a real TCP SYN to a VIP in IPIP towards a real (XDP_TX)", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-zoo-net-"));
  try {
    using net = createNetnsPair();
    const vip = "10.0.0.100";
    net.exec("a", "ip", ["route", "add", `${vip}/32`, "dev", net.ifA]);
    net.exec("a", "ip", [
      "neigh",
      "add",
      vip,
      "lladdr",
      macOf(net, "b"),
      "dev",
      net.ifA,
      "nud",
      "permanent",
    ]);
    const macA = macOf(net, "a");
    const maps = katranMaps();
    // the gateway the encapsulated packets go to: A's interface
    maps.ctl_array = [
      [maps.ctl_array![0]![0], Uint8Array.of(...macA.split(":").map((x) => parseInt(x, 16)), 0, 0)],
    ];
    const elf = join(dir, "lb.elf");
    writeFileSync(elf, await buildPort("katran_lb"));
    const hexMaps = Object.fromEntries(
      Object.entries(maps).map(([k, rows]) => [
        k,
        rows.map(([a, b]) => [hex(a), hex(b)] as [string, string]),
      ]),
    );
    const child = await attachIn(net, elf, hexMaps);
    try {
      const py = `
import socket, threading, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("${net.ifA}", 0))
s.settimeout(5)
def connect():
    c = socket.socket(); c.settimeout(2)
    try: c.connect(("${vip}", 80))
    except Exception: pass
threading.Thread(target=connect, daemon=True).start()
while True:
    f = s.recv(4096)
    if len(f) > 34 and f[12:14] == b"\\x08\\x00" and f[23] == 4:
        print(f.hex()); break
`;
      const r = net.exec("a", "python3", ["-c", py], { timeoutMs: 15_000 });
      const f = Buffer.from(r.stdout.trim(), "hex");
      assert.ok(f.length > 34 + 20, `an IPIP frame came back: ${r.stdout}`);
      assert.equal(f.subarray(0, 6).toString("hex"), macA.replace(/:/g, ""), "to the gateway MAC");
      assert.ok(checksumOk(f.subarray(14, 34)), "outer header checksum");
      assert.deepEqual([...f.subarray(26, 28)], [172, 16]);
      const real = f[33]!;
      assert.ok([1, 2, 3].includes(real), `a real of VIP 1 (${KATRAN.reals.length} reals)`);
      assert.deepEqual([...f.subarray(30, 33)], [10, 1, 0]);
      const inner = f.subarray(34);
      assert.equal(inner[0]! >> 4, 4);
      assert.deepEqual(
        [...inner.subarray(16, 20)],
        [10, 0, 0, 100],
        "the inner packet is A's SYN to the VIP",
      );
      assert.equal(inner[9], 6);
      assert.equal((inner[22]! << 8) | inner[23]!, 80);
      assert.equal(inner[20 + 13]! & 0x02, 0x02, "SYN");
    } finally {
      await child.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
