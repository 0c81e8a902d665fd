// Packet writes on real traffic between two network namespaces created here (names carry the
// pid, test/support/netns.ts):
// - an XDP ICMP echo reflector on B answers pings from A for an address no stack owns; the
//   replies reach A's ping only if the probe's IPv4 and ICMP checksums are right (the kernel
//   drops bad ones);
// - a TC probe on B's ingress moves UDP port 9999 to 7777 and fixes the checksum with
//   bpf_l4_csum_replace; a socket on 7777 receives the datagram. The sender is a raw socket
//   that writes a complete UDP checksum (no offload), so B verifies it: the same probe without
//   the checksum fix-up delivers nothing;
// - an XDP ARP responder on B answers the ARP requests of A's stack, which learns its MAC.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable, type NetnsPair } from "../../support/netns.js";
import { compileSource } from "../../unit/compiler/support.js";
import { ARP_RESPONDER, REFLECTOR, TC_PORT } from "./packet-write-probes.js";

const CHILD = fileURLToPath(new URL("./packet-write-child.js", import.meta.url));

async function attachIn(net: NetnsPair, elf: string, program: string, how: string) {
  const p = spawn(
    "ip",
    [
      "netns",
      "exec",
      net.nsB,
      process.execPath,
      CHILD,
      JSON.stringify({ elf, program, iface: net.ifB, how }),
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const it = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const ready = JSON.parse(String((await it.next()).value)) as { ready?: boolean; error?: string };
  assert.ok(ready.ready, `attached ${program}: ${ready.error}`);
  const exited = new Promise((res) => p.once("exit", res));
  return {
    async stop() {
      p.stdin.write("stop\n");
      await exited;
    },
  };
}

function macOf(net: NetnsPair): string {
  const r = net.exec("b", "ip", ["-j", "link", "show", net.ifB]);
  return (JSON.parse(r.stdout) as { address: string }[])[0]!.address;
}

test("an XDP reflector answers real pings; the kernel accepts its checksums", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-pktw-"));
  try {
    using net = createNetnsPair();
    const ghost = net.ipB.replace(/\.2$/, ".9"); // an address nobody in B owns
    net.exec("a", "ip", [
      "neigh",
      "add",
      ghost,
      "lladdr",
      macOf(net),
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
    assert.equal(ping(), 0, "without the reflector nobody answers");
    const elf = join(dir, "reflect.elf");
    writeFileSync(elf, compileSource(REFLECTOR, { raw: true }).elf);
    const child = await attachIn(net, elf, "reflect", "xdp");
    try {
      assert.equal(ping(), 3, "every ping answered by the reflector");
    } finally {
      await child.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A UDP datagram with a complete checksum, sent from A through a raw socket (no offload). */
function sendRawUdp(net: NetnsPair, dport: number, text: string): void {
  const py = `
import socket, struct, sys
src, dst, dport, data = "${net.ipA}", "${net.ipB}", ${dport}, b"${text}"
udp = struct.pack("!HHHH", 40000, dport, 8 + len(data), 0) + data
ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(udp))
b = ph + udp + (b"\\0" if len(udp) % 2 else b"")
s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
while s > 0xffff: s = (s & 0xffff) + (s >> 16)
c = (~s & 0xffff) or 0xffff
udp = udp[:6] + struct.pack("!H", c) + udp[8:]
sk = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
for _ in range(3): sk.sendto(udp, (dst, 0))
`;
  net.exec("a", "python3", ["-c", py]);
}

/** Receive on B:port until `want` datagrams arrived or `ms` passed. */
async function receive(net: NetnsPair, port: number, send: () => void, want: number, ms: number) {
  const code = `
    const s = require("node:dgram").createSocket("udp4");
    s.on("message", (m) => console.log(m.toString()));
    s.bind(${port}, "${net.ipB}", () => console.log("bound"));
    process.stdin.on("end", () => process.exit(0)).resume();`;
  const p = spawn("ip", ["netns", "exec", net.nsB, process.execPath, "-e", code], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const got: string[] = [];
  let bound!: () => void;
  const isBound = new Promise<void>((res) => (bound = res));
  createInterface({ input: p.stdout }).on("line", (l) => (l === "bound" ? bound() : got.push(l)));
  const exited = new Promise((res) => p.once("exit", res));
  await isBound;
  send();
  const deadline = Date.now() + ms;
  while (got.length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  p.stdin.end();
  await exited;
  return got;
}

test("a TC probe moves a UDP port and fixes the checksum; a real socket receives it", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-pktw-"));
  try {
    using net = createNetnsPair();
    // The checksum is verified: a raw datagram to 7777 arrives as sent.
    assert.equal(
      (await receive(net, 7777, () => sendRawUdp(net, 7777, "direct"), 3, 5000)).length,
      3,
    );
    const fixed = join(dir, "port.elf");
    writeFileSync(fixed, compileSource(TC_PORT, { raw: true }).elf);
    const broken = join(dir, "nofix.elf");
    writeFileSync(
      broken,
      compileSource(TC_PORT.replace(/ctx\.l4CsumReplace\([^;]*;/, ""), { raw: true }).elf,
    );
    for (const [elf, want] of [
      [fixed, 3],
      [broken, 0],
    ] as const) {
      const child = await attachIn(net, elf, "tc_port", "tc-ingress");
      try {
        const got = await receive(
          net,
          7777,
          () => sendRawUdp(net, 9999, "moved"),
          want,
          want ? 5000 : 1000,
        );
        assert.deepEqual(
          got,
          Array(want).fill("moved"),
          elf === fixed ? "with l4CsumReplace" : "without it, B drops the datagram",
        );
      } finally {
        await child.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an XDP ARP responder answers the real ARP requests of A's stack", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-pktw-"));
  try {
    using net = createNetnsPair();
    // The responder answers for 10.0.0.99: give A a route to that /24 through its veth.
    net.exec("a", "ip", ["addr", "add", "10.0.0.1/24", "dev", net.ifA]);
    const neigh = () =>
      net.exec("a", "ip", ["neigh", "show", "10.0.0.99", "dev", net.ifA]).stdout.trim();
    const elf = join(dir, "arp.elf");
    writeFileSync(elf, compileSource(ARP_RESPONDER, { raw: true }).elf);
    const child = await attachIn(net, elf, "arp_reply", "xdp");
    try {
      // The ping itself gets no answer (nobody owns 10.0.0.99); its ARP request does.
      net.exec("a", "ping", ["-c", "1", "-W", "1", "10.0.0.99"], { allowFail: true });
      assert.match(neigh(), /lladdr 02:00:00:00:00:63 /, "A learnt the responder's MAC");
    } finally {
      await child.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
