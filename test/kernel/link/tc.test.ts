import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ProgType } from "../../../src/obj/consts.js";
import { progInfo } from "../../../src/sys/info.js";
import { attachTc, AttachError } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable } from "../../support/netns.js";
import { linkIds } from "../../support/bpftool.js";
import { eventually } from "../../support/poll.js";
import { AttachChild } from "./child.js";
import { countingProgram } from "./programs.js";

const TC_ACT_OK = 0;

const inNs = (ns: string, cmd: string, args: string[]) =>
  spawnSync("ip", ["netns", "exec", ns, cmd, ...args], { encoding: "utf8" }).stdout;

test("TCX ingress counts pings; bpftool shows the link; close() detaches", async (t) => {
  // TCX links exist from Linux 6.6 (older kernels use the netlink path tested below).
  if (!needsKernel(t, netnsUnavailable()) || !needsKernel(t, { minKernel: "6.6" })) return;
  using net = createNetnsPair();
  using prog = countingProgram({ type: ProgType.SCHED_CLS, name: "tcx_count", ret: TC_ACT_OK });
  const child = new AttachChild(net.nsB, "tc", net.ifB, prog, { direction: "ingress" });
  try {
    const r = await child.next();
    assert.equal(r.error, undefined);
    assert.match(r.attached!, new RegExp(`tcx tcx_count on ${net.ifB} ingress`));
    assert.ok(linkIds().includes(r.linkId!));
    // bpftool 7.1 prints TCX links as "type 11"; newer ones as "tcx".
    const shown = JSON.parse(
      spawnSync("bpftool", ["-j", "link", "show", "id", String(r.linkId)], { encoding: "utf8" })
        .stdout,
    );
    assert.ok(
      shown.type === "tcx" || shown.type === 11,
      `bpftool shows a TCX link: ${JSON.stringify(shown)}`,
    );
    assert.equal(shown.prog_id, progInfo(prog.fd).id);
    assert.equal(net.ping("a", 3), 3);
    const seen = prog.read();
    assert.ok(seen >= 3n, `TCX saw ${seen} packets`);
    child.send("close");
    assert.deepEqual(await child.next(), { closed: true });
    assert.ok(!linkIds().includes(r.linkId!));
    assert.equal(net.ping("a", 2), 2);
    assert.equal(prog.read(), seen);
  } finally {
    await child.stop();
  }
});

test("TCX egress link dies with a SIGKILLed process", async (t) => {
  // TCX links exist from Linux 6.6 (older kernels use the netlink path tested below).
  if (!needsKernel(t, netnsUnavailable()) || !needsKernel(t, { minKernel: "6.6" })) return;
  using net = createNetnsPair();
  using prog = countingProgram({ type: ProgType.SCHED_CLS, name: "tcx_kill", ret: TC_ACT_OK });
  const child = new AttachChild(net.nsB, "tc", net.ifB, prog, { direction: "egress" });
  try {
    const r = await child.next();
    assert.equal(r.error, undefined);
    assert.equal(net.ping("a", 2), 2);
    assert.ok(prog.read() >= 2n, "egress replies counted while attached");
    await child.stop("SIGKILL");
    assert.ok(await eventually(() => !linkIds().includes(r.linkId!)));
    assert.equal(net.ping("a", 2), 2);
    const after = prog.read();
    assert.equal(net.ping("a", 2), 2);
    assert.equal(prog.read(), after, "nothing runs on egress after the process died");
  } finally {
    await child.stop("SIGKILL");
  }
});

test("netlink clsact + cls_bpf (pre-TCX path) on egress: filter visible to tc, removed on close()", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  using prog = countingProgram({ type: ProgType.SCHED_CLS, name: "cls_count", ret: TC_ACT_OK });
  const child = new AttachChild(net.nsB, "tc", net.ifB, prog, {
    direction: "egress",
    netlink: true,
    priority: 7,
    handle: 3,
  });
  try {
    const r = await child.next();
    assert.equal(r.error, undefined);
    assert.match(r.attached!, /cls_bpf prio 7 handle 3/);
    const filters = inNs(net.nsB, "tc", ["filter", "show", "dev", net.ifB, "egress"]);
    assert.match(filters, /pref 7 bpf/);
    assert.match(filters, /direct-action/);
    assert.equal(net.ping("a", 3), 3);
    assert.ok(prog.read() >= 3n, "echo replies leave through egress");
    // A second filter at the same priority/handle is refused with a useful message.
    const dup = new AttachChild(net.nsB, "tc", net.ifB, prog, {
      direction: "egress",
      netlink: true,
      priority: 7,
      handle: 3,
    });
    assert.match((await dup.next()).error ?? "", /priority 7 and handle 3 already exists/);
    await dup.stop();
    child.send("close");
    assert.deepEqual(await child.next(), { closed: true });
    assert.doesNotMatch(inNs(net.nsB, "tc", ["filter", "show", "dev", net.ifB, "egress"]), /bpf/);
    assert.doesNotMatch(
      inNs(net.nsB, "tc", ["qdisc", "show", "dev", net.ifB]),
      /clsact/,
      "the clsact we created is gone",
    );
  } finally {
    await child.stop();
  }
});

test("tc errors: wrong direction and program type", (t) => {
  if (!needsKernel(t)) return;
  using prog = countingProgram({ type: ProgType.SCHED_CLS, name: "tc_err", ret: 0 });
  assert.throws(
    () => attachTc(prog, "lo", { direction: "sideways" as "ingress" }),
    /must be "ingress" or "egress"/,
  );
  assert.throws(
    () => attachTc(prog, "nope0"),
    (e: unknown) => e instanceof AttachError && /no network interface "nope0"/.test(e.message),
  );
  using xdp = countingProgram({ type: ProgType.XDP, name: "xdp_not_tc", ret: 2 });
  assert.throws(() => attachTc(xdp, "lo"), /is a XDP program, not tc/);
});
