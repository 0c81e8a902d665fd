import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ProgType } from "../../../src/obj/consts.js";
import { progInfo } from "../../../src/sys/info.js";
import { attachXdp, AttachError } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable } from "../../support/netns.js";
import { linkIds, linksOfProgram } from "../../support/bpftool.js";
import { eventually } from "../../support/poll.js";
import { AttachChild } from "./child.js";
import { countingProgram } from "./programs.js";

const XDP_PASS = 2;

/** `ip -d link show` of ifB inside nsB: contains "xdp" / "xdpgeneric" with prog id when attached. */
function ipLink(ns: string, ifc: string): string {
  return spawnSync("ip", ["-n", ns, "-d", "link", "show", "dev", ifc], { encoding: "utf8" }).stdout;
}
const hasXdp = (s: string) => /\bprog\/xdp\b|\bxdp(generic|drv|offload)?\b/.test(s);

test("XDP over bpf_link counts pings across a veth pair; close() detaches", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  using prog = countingProgram({ type: ProgType.XDP, name: "xdp_count", ret: XDP_PASS });
  const progId = progInfo(prog.fd).id;
  const child = new AttachChild(net.nsB, "xdp", net.ifB, prog);
  try {
    const r = await child.next();
    assert.equal(r.error, undefined);
    assert.match(
      r.attached!,
      new RegExp(`xdp xdp_count on ${net.ifB} \\(ifindex \\d+, bpf_link\\)`),
    );
    assert.ok(
      typeof r.linkId === "number" && linkIds().includes(r.linkId),
      "bpftool lists the XDP link",
    );
    assert.ok(hasXdp(ipLink(net.nsB, net.ifB)), "ip link shows xdp");
    assert.equal(net.ping("a", 3), 3);
    const seen = prog.read();
    assert.ok(seen >= 3n, `XDP saw ${seen} packets, expected ≥ 3 echo requests`);
    child.send("close");
    assert.deepEqual(await child.next(), { closed: true });
    assert.ok(!hasXdp(ipLink(net.nsB, net.ifB)), "ip link shows no xdp after close()");
    assert.ok(!linkIds().includes(r.linkId!), "bpftool no longer lists the link");
    assert.deepEqual(linksOfProgram(progId), []);
    assert.equal(net.ping("a", 2), 2);
    assert.equal(prog.read(), seen, "no packets counted after close()");
  } finally {
    await child.stop();
  }
});

test("XDP in generic mode over netlink: ip link shows xdpgeneric; close() detaches with fd -1", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  using prog = countingProgram({ type: ProgType.XDP, name: "xdp_nl", ret: XDP_PASS });
  const child = new AttachChild(net.nsB, "xdp", net.ifB, prog, { netlink: true, mode: "skb" });
  try {
    const r = await child.next();
    assert.equal(r.error, undefined);
    assert.match(r.attached!, /netlink, generic mode/);
    assert.equal(r.linkId, null);
    assert.match(ipLink(net.nsB, net.ifB), /xdpgeneric/);
    assert.equal(net.ping("a", 3), 3);
    assert.ok(prog.read() >= 3n);
    child.send("close");
    assert.deepEqual(await child.next(), { closed: true });
    assert.ok(!hasXdp(ipLink(net.nsB, net.ifB)));
  } finally {
    await child.stop();
    // A netlink attachment outlives its process: make sure nothing stays even if asserts failed.
    spawnSync("ip", ["-n", net.nsB, "link", "set", "dev", net.ifB, "xdp", "off"]);
  }
});

test("a second XDP attach is refused with an explanation naming the holder", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  using prog = countingProgram({ type: ProgType.XDP, name: "xdp_first", ret: XDP_PASS });
  const first = new AttachChild(net.nsB, "xdp", net.ifB, prog);
  let second: AttachChild | undefined;
  try {
    assert.equal((await first.next()).error, undefined);
    second = new AttachChild(net.nsB, "xdp", net.ifB, prog);
    const r = await second.next();
    assert.match(
      r.error ?? "",
      /an XDP program is already attached \(program id \d+, (driver|generic) mode\)/,
    );
    assert.match(r.error ?? "", new RegExp(`ip link set dev ${net.ifB} xdp off`));
  } finally {
    await second?.stop();
    await first.stop();
  }
});

test("a process killed with SIGKILL leaves no XDP program attached (bpf_link)", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  using prog = countingProgram({ type: ProgType.XDP, name: "xdp_kill", ret: XDP_PASS });
  const child = new AttachChild(net.nsB, "xdp", net.ifB, prog);
  try {
    const r = await child.next();
    assert.equal(r.error, undefined);
    assert.ok(hasXdp(ipLink(net.nsB, net.ifB)));
    await child.stop("SIGKILL");
    assert.ok(await eventually(() => !hasXdp(ipLink(net.nsB, net.ifB))), "xdp gone after SIGKILL");
    assert.ok(await eventually(() => !linkIds().includes(r.linkId!)), "link gone after SIGKILL");
  } finally {
    await child.stop("SIGKILL");
  }
});

test("XDP errors: missing interface, wrong program type", (t) => {
  if (!needsKernel(t)) return;
  using prog = countingProgram({ type: ProgType.XDP, name: "xdp_err", ret: XDP_PASS });
  assert.throws(
    () => attachXdp(prog, "eth9"),
    (e: unknown) => e instanceof AttachError && /no network interface "eth9"/.test(e.message),
  );
  using tp = countingProgram({ type: ProgType.TRACEPOINT, name: "not_xdp", ret: 0 });
  assert.throws(() => attachXdp(tp, "lo"), /is a TRACEPOINT program, not XDP/);
});

test("netlink XDP outlives a SIGKILLed process; { replace } swaps it atomically; { updateIfNoExist } refuses", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  using a = countingProgram({ type: ProgType.XDP, name: "xdp_old", ret: XDP_PASS });
  using b = countingProgram({ type: ProgType.XDP, name: "xdp_new", ret: XDP_PASS });
  const idA = progInfo(a.fd).id;
  const idB = progInfo(b.fd).id;
  const children: AttachChild[] = [];
  try {
    const first = new AttachChild(net.nsB, "xdp", net.ifB, a, { netlink: true });
    children.push(first);
    assert.equal((await first.next()).error, undefined);
    // Killed without running any JavaScript: a netlink attachment stays (a clean exit detaches
    // it, see exit-cleanup.test.ts).
    await first.stop("SIGKILL");
    assert.match(ipLink(net.nsB, net.ifB), new RegExp(`prog/xdp id ${idA}\\b`));

    const refused = new AttachChild(net.nsB, "xdp", net.ifB, b, {
      netlink: true,
      updateIfNoExist: true,
    });
    children.push(refused);
    assert.match(
      (await refused.next()).error ?? "",
      new RegExp(`already attached \\(program id ${idA}`),
    );

    const swap = new AttachChild(
      net.nsB,
      "xdp",
      net.ifB,
      b,
      { netlink: true, replaceFd4: true },
      a.fd,
    );
    children.push(swap);
    assert.equal((await swap.next()).error, undefined);
    assert.match(ipLink(net.nsB, net.ifB), new RegExp(`prog/xdp id ${idB}\\b`));
    const oldCount = a.read();
    assert.equal(net.ping("a", 2), 2);
    assert.ok(b.read() >= 2n, "the new program runs");
    assert.equal(a.read(), oldCount, "the old one no longer does");
    swap.send("close");
    assert.deepEqual(await swap.next(), { closed: true });
    assert.ok(!hasXdp(ipLink(net.nsB, net.ifB)));
  } finally {
    for (const c of children) await c.stop();
    spawnSync("ip", ["-n", net.nsB, "link", "set", "dev", net.ifB, "xdp", "off"]);
  }
});
