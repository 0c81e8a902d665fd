// Netlink attachments (XDP IFLA_XDP, tc clsact + cls_bpf) are not bpf_links: the kernel keeps
// them after the process dies. src/link/exit-cleanup.ts detaches them on every ending that runs
// JavaScript. Each test attaches from a real child process inside a namespace of its own, ends
// it one way, and asks the kernel (ip link / tc filter show) whether anything is left.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ProgType } from "../../../src/obj/consts.js";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable, type NetnsPair } from "../../support/netns.js";
import { progInfo } from "../../../src/sys/info.js";
import { linkIds, linksOfProgram } from "../../support/bpftool.js";
import { eventually } from "../../support/poll.js";
import { AttachChild } from "./child.js";
import { countingProgram } from "./programs.js";

const XDP_PASS = 2;
const TC_ACT_OK = 0;

const xdpAttached = (net: NetnsPair): boolean =>
  /\bprog\/xdp\b|\bxdp(generic|drv|offload)?\b/.test(
    spawnSync("ip", ["-n", net.nsB, "-d", "link", "show", "dev", net.ifB], { encoding: "utf8" })
      .stdout,
  );
const tcAttached = (net: NetnsPair): boolean =>
  /\bbpf\b/.test(
    spawnSync("ip", ["netns", "exec", net.nsB, "tc", "filter", "show", "dev", net.ifB, "ingress"], {
      encoding: "utf8",
    }).stdout,
  );

type Ending =
  | "SIGINT"
  | "SIGTERM"
  | "SIGHUP"
  | "SIGQUIT"
  | "SIGALRM"
  | "process.exit"
  | "throw"
  | "reject"
  | "exit";

/** What the child's end must look like: the default action of a signal, or an exit status. */
const expected: Record<Ending, { code: number | null; signal: NodeJS.Signals | null }> = {
  SIGINT: { code: null, signal: "SIGINT" },
  SIGTERM: { code: null, signal: "SIGTERM" },
  SIGHUP: { code: null, signal: "SIGHUP" },
  SIGQUIT: { code: null, signal: "SIGQUIT" },
  SIGALRM: { code: null, signal: "SIGALRM" },
  "process.exit": { code: 3, signal: null },
  throw: { code: 1, signal: null },
  reject: { code: 1, signal: null },
  exit: { code: 0, signal: null },
};

for (const kind of ["xdp", "tc"] as const) {
  for (const ending of Object.keys(expected) as Ending[]) {
    test(`netlink ${kind}: nothing stays attached after the process ends by ${ending}`, async (t) => {
      if (!needsKernel(t, netnsUnavailable())) return;
      using net = createNetnsPair();
      using prog =
        kind === "xdp"
          ? countingProgram({ type: ProgType.XDP, name: "xdp_end", ret: XDP_PASS })
          : countingProgram({ type: ProgType.SCHED_CLS, name: "tc_end", ret: TC_ACT_OK });
      const attached = kind === "xdp" ? xdpAttached : tcAttached;
      const child = new AttachChild(net.nsB, kind, net.ifB, prog, { netlink: true });
      try {
        const r = await child.next();
        assert.equal(r.error, undefined);
        assert.ok(attached(net), "attached while the child runs");
        if (ending.startsWith("SIG")) child.proc.kill(ending as NodeJS.Signals);
        else {
          child.send(ending);
          if (ending !== "exit") assert.deepEqual(await child.next(), { ok: ending });
        }
        const end = await child.exited();
        assert.deepEqual(end, expected[ending], `child ended as expected; stderr: ${child.stderr}`);
        assert.ok(!attached(net), `nothing attached after ${ending}`);
        if (ending === "throw") assert.match(child.stderr, /uncaught on purpose/);
        if (ending === "reject") assert.match(child.stderr, /unhandled on purpose/);
      } finally {
        await child.stop("SIGKILL");
        spawnSync("ip", ["-n", net.nsB, "link", "set", "dev", net.ifB, "xdp", "off"]);
        spawnSync("ip", ["netns", "exec", net.nsB, "tc", "qdisc", "del", "dev", net.ifB, "clsact"]);
      }
    });
  }
}

// The bpf_link attachments (the default where the kernel has them) need no listener: the
// kernel detaches them with the last fd, whatever ends the process, SIGKILL included.
for (const kind of ["xdp", "tc"] as const) {
  for (const ending of [...(Object.keys(expected) as Ending[]), "SIGKILL" as const]) {
    test(`bpf_link ${kind}: no link left after the process ends by ${ending}`, async (t) => {
      if (!needsKernel(t, netnsUnavailable())) return;
      if (kind === "tc" && !needsKernel(t, { minKernel: "6.6" })) return;
      using net = createNetnsPair();
      using prog =
        kind === "xdp"
          ? countingProgram({ type: ProgType.XDP, name: "xdp_link_end", ret: XDP_PASS })
          : countingProgram({ type: ProgType.SCHED_CLS, name: "tcx_end", ret: TC_ACT_OK });
      const child = new AttachChild(net.nsB, kind, net.ifB, prog);
      try {
        const r = await child.next();
        assert.equal(r.error, undefined);
        assert.equal(typeof r.linkId, "number", `a bpf_link: ${r.attached}`);
        assert.ok(linkIds().includes(r.linkId!));
        if (ending.startsWith("SIG")) child.proc.kill(ending as NodeJS.Signals);
        else {
          child.send(ending);
          if (ending !== "exit") assert.deepEqual(await child.next(), { ok: ending });
        }
        const end = await child.exited();
        if (ending !== "SIGKILL") assert.deepEqual(end, expected[ending as Ending]);
        assert.ok(await eventually(() => !linkIds().includes(r.linkId!)), "link gone");
        assert.deepEqual(linksOfProgram(progInfo(prog.fd).id), []);
      } finally {
        await child.stop("SIGKILL");
      }
    });
  }
}

test("a program's own SIGINT listener keeps it running and attached; its later exit detaches", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  using prog = countingProgram({ type: ProgType.XDP, name: "xdp_own", ret: XDP_PASS });
  const child = new AttachChild(net.nsB, "xdp", net.ifB, prog, { netlink: true });
  try {
    assert.equal((await child.next()).error, undefined);
    child.send("own-sigint");
    assert.deepEqual(await child.next(), { ok: "own-sigint" });
    child.proc.kill("SIGINT");
    assert.deepEqual(await child.next(), { sigint: true });
    assert.equal(child.proc.exitCode, null, "the library did not end the process");
    assert.ok(xdpAttached(net), "still attached: the program chose to keep running");
    assert.equal(net.ping("a", 2), 2);
    assert.ok(prog.read() >= 2n, "and the program still runs");
    child.send("exit");
    assert.deepEqual(await child.exited(), { code: 0, signal: null });
    assert.ok(!xdpAttached(net), "detached at exit");
  } finally {
    await child.stop("SIGKILL");
    spawnSync("ip", ["-n", net.nsB, "link", "set", "dev", net.ifB, "xdp", "off"]);
  }
});
