import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync } from "node:fs";
import { AttachType, ProgType } from "../../../src/obj/consts.js";
import { AttachError, attachCgroup, attachCgroupSkb, FdLink } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { linkIds } from "../../support/bpftool.js";
import { countingProgram } from "./programs.js";

/** The cgroup v2 mount point (hybrid systems mount it at /sys/fs/cgroup/unified). */
function cgroup2Root(): string | undefined {
  const mounts = readFileSync("/proc/mounts", "utf8");
  return /^\S+ (\S+) cgroup2 /m.exec(mounts)?.[1];
}

/** ping 127.0.0.1 from a shell that first moves itself into `cg`; returns replies received. */
function pingFromCgroup(cg: string, count: number): { received: number; out: string } {
  const r = spawnSync(
    "sh",
    ["-c", `echo $$ > ${cg}/cgroup.procs && exec ping -c ${count} -i 0.2 -W 1 127.0.0.1`],
    { encoding: "utf8" },
  );
  const out = r.stdout + r.stderr;
  return { received: Number(/(\d+) received/.exec(out)?.[1] ?? 0), out };
}

function withCgroup(fn: (cg: string) => void): void {
  const root = cgroup2Root()!;
  const cg = `${root}/tsbpf-link-${process.pid}`;
  mkdirSync(cg);
  try {
    fn(cg);
  } finally {
    // Processes that ran in it have exited; an empty cgroup can be removed.
    for (let i = 0; i < 50 && existsSync(cg); i++) {
      try {
        rmdirSync(cg);
      } catch {
        execFileSync("sleep", ["0.05"]);
      }
    }
  }
}

test("cgroup_skb egress counts a member process's packets; a 0 verdict blocks them; close() detaches", (t) => {
  if (!needsKernel(t, cgroup2Root() ? undefined : "no cgroup2 mount")) return;
  withCgroup((cg) => {
    using count = countingProgram({
      type: ProgType.CGROUP_SKB,
      name: "cg_count",
      ret: 1,
      expectedAttachType: AttachType.CGROUP_INET_EGRESS,
    });
    const link = attachCgroupSkb(count, cg, "egress");
    assert.ok(link instanceof FdLink && linkIds().includes(link.id));
    assert.equal(link.info().attachType, AttachType.CGROUP_INET_EGRESS);
    assert.match(
      link.description,
      /cgroup cg_count on .*tsbpf-link-\d+ \(cgroup_inet_egress\), bpf_link/,
    );
    const before = count.read();
    // Our own traffic (we are not in the cgroup) is not counted.
    spawnSync("ping", ["-c", "2", "-i", "0.2", "127.0.0.1"]);
    assert.equal(count.read(), before);
    assert.equal(pingFromCgroup(cg, 3).received, 3);
    const seen = count.read();
    assert.ok(seen >= 3n, `counted ${seen} egress packets of the member process`);
    const id = link.id;
    link.close();
    assert.ok(!linkIds().includes(id));
    pingFromCgroup(cg, 2);
    assert.equal(count.read(), seen, "not run after close()");

    using block = countingProgram({
      type: ProgType.CGROUP_SKB,
      name: "cg_block",
      ret: 0,
      expectedAttachType: AttachType.CGROUP_INET_EGRESS,
    });
    const blockLink = attachCgroup(block, cg, AttachType.CGROUP_INET_EGRESS);
    const blocked = pingFromCgroup(cg, 2);
    assert.equal(blocked.received, 0, `ping should fail: ${blocked.out}`);
    assert.ok(block.read() >= 2n);
    blockLink.close();
    assert.equal(pingFromCgroup(cg, 2).received, 2, "traffic flows again after close()");
  });
});

test("cgroup errors: missing cgroup, not a cgroup, wrong program type", (t) => {
  if (!needsKernel(t, cgroup2Root() ? undefined : "no cgroup2 mount")) return;
  using prog = countingProgram({
    type: ProgType.CGROUP_SKB,
    name: "cg_err",
    ret: 1,
    expectedAttachType: AttachType.CGROUP_INET_INGRESS,
  });
  assert.throws(
    () => attachCgroupSkb(prog, "/sys/fs/cgroup/unified/no-such-tsbpf", "ingress"),
    (e: unknown) =>
      e instanceof AttachError &&
      /no cgroup \/sys\/fs\/cgroup\/unified\/no-such-tsbpf/.test(e.message),
  );
  assert.throws(() => attachCgroupSkb(prog, "/tmp", "ingress"), /not a cgroup v2 directory/);
  using xdp = countingProgram({ type: ProgType.XDP, name: "cg_xdp", ret: 2 });
  assert.throws(() => attachCgroupSkb(xdp, "/tmp", "ingress"), /not a cgroup program/);
});
