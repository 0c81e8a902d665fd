// `tsbpf new --template KIND` for the kinds this host attaches: each project is created, built,
// type-checked and its loader run until it prints what the probe saw (xdp and tc on a netns's
// lo, a tracepoint on an exec, a uprobe on libc's mkdir, a perf_event profiler, cgroup_skb on a
// cgroup this test creates); then `tsbpf add` adds a probe to a project, which builds beside
// the first and loads with `tsbpf load`. kprobe and fentry: templates-tracing.test.ts (VMs).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  rmdirSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable } from "../../support/netns.js";
import { build, createTemplate, runUntilSeen, sh, TSBPF } from "./template-run.js";

const tmp = mkdtempSync(join(tmpdir(), "tsbpf-templates-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const UDP = `require("dgram").createSocket("udp4").send("hello", 9999, "127.0.0.1", (e) => process.exit(e ? 1 : 0))`;
const SEEN_UDP = /^UDP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:9999 \(\d+ bytes\)$/;

for (const template of ["xdp", "tc"]) {
  test(`tsbpf new --template ${template}: the loader on a netns's lo prints a UDP datagram sent there`, async (t) => {
    if (!needsKernel(t, netnsUnavailable())) return;
    const p = createTemplate(tmp, template, `t-${template}`);
    using net = createNetnsPair();
    net.exec("a", "ip", ["link", "set", "lo", "up"]);
    const lines = await runUntilSeen(p.dir, ["lo", p.elf], {
      command: ["ip", "netns", "exec", net.nsA, process.execPath, "dist/loader.js"],
      trigger: () => net.exec("a", process.execPath, ["-e", UDP]),
      expect: SEEN_UDP,
    });
    assert.match(
      lines[0]!,
      new RegExp(`^Loaded: t_${template}, ${template === "xdp" ? "XDP" : "TC"}$`),
    );
  });
}

test("tsbpf new --template tracepoint: the loader prints a program started", async (t) => {
  if (!needsKernel(t)) return;
  const p = createTemplate(tmp, "tracepoint", "t-tracepoint");
  // a command of our own name: exec's comm is the name it was run by
  const comm = `tpl${process.pid}`.slice(0, 15);
  const cmd = join(tmp, comm);
  symlinkSync("/bin/sh", cmd);
  const lines = await runUntilSeen(p.dir, [p.elf], {
    trigger: () => void spawnSync(cmd, ["-c", "true"]),
    expect: new RegExp(`^pid \\d+ ${comm}$`),
  });
  assert.equal(lines[0], "Loaded: t_tracepoint, TracePoint");
});

test("tsbpf new --template uprobe: the loader prints the path given to libc's mkdir", async (t) => {
  if (!needsKernel(t)) return;
  const p = createTemplate(tmp, "uprobe", "t-uprobe");
  const path = `/tmp/tsbpf-mk-${process.pid}`;
  try {
    const lines = await runUntilSeen(p.dir, [p.elf], {
      // node's fs.mkdirSync calls libc's mkdir(path)
      trigger: () =>
        void spawnSync(process.execPath, [
          "-e",
          `try { require("fs").mkdirSync(${JSON.stringify(path)}) } catch {}`,
        ]),
      expect: (l) => l.endsWith(` mkdir ${path}`),
    });
    assert.equal(lines[0], "Loaded: t_uprobe, UProbe");
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
});

test("tsbpf new --template perf-event: the profiler prints commands by samples", async (t) => {
  if (!needsKernel(t)) return;
  const p = createTemplate(tmp, "perf-event", "t-perf-event");
  const lines = await runUntilSeen(p.dir, [p.elf], {
    trigger: () => {},
    // the loader itself (node) is on a CPU when it prints, so a sample of it is there
    expect: /^[1-9]\d* node$/,
  });
  assert.equal(lines[0], "Loaded: t_perf_event, PerfEvent");
});

function cgroup2Root(): string | undefined {
  return /^\S+ (\S+) cgroup2 /m.exec(readFileSync("/proc/mounts", "utf8"))?.[1];
}

test("tsbpf new --template cgroup: the loader prints a datagram a process of the cgroup sends", async (t) => {
  const root = cgroup2Root();
  if (!needsKernel(t, root ? netnsUnavailable() : "no cgroup2 mount")) return;
  const p = createTemplate(tmp, "cgroup", "t-cgroup");
  using net = createNetnsPair();
  net.exec("a", "ip", ["link", "set", "lo", "up"]);
  const cg = `${root}/tsbpf-template-${process.pid}`;
  mkdirSync(cg);
  try {
    await runUntilSeen(p.dir, [cg, p.elf], {
      trigger: () =>
        void spawnSync("sh", [
          "-c",
          `echo $$ > ${cg}/cgroup.procs && exec ip netns exec ${net.nsA} "${process.execPath}" -e '${UDP}'`,
        ]),
      expect: SEEN_UDP,
    });
  } finally {
    for (let i = 0; i < 50 && existsSync(cg); i++) {
      try {
        rmdirSync(cg);
      } catch {
        spawnSync("sleep", ["0.05"]);
      }
    }
  }
});

test("tsbpf add uprobe NAME: a second probe, listed in package.json, built beside the first and loaded by tsbpf load", async (t) => {
  if (!needsKernel(t)) return;
  const p = createTemplate(tmp, "tracepoint", "t-add");
  const out = sh(p.dir, process.execPath, [TSBPF, "add", "uprobe", "mk"]);
  assert.match(out, /^Added mk\.ts \(uprobe on libc's mkdir\(\)/);
  assert.match(out, /sudo npx tsbpf load -b libc -s mkdir target\/bpf-programs\/mk\/mk\.elf/);
  const pkg = JSON.parse(readFileSync(join(p.dir, "package.json"), "utf8")) as {
    tsbpf: { probes: string[] };
  };
  assert.deepEqual(pkg.tsbpf.probes, ["probe.ts", "mk.ts"]);
  build(p.dir);
  assert.ok(existsSync(join(p.dir, p.elf)), "the first probe is still built");
  const path = `/tmp/tsbpf-add-${process.pid}`;
  try {
    await runUntilSeen(
      p.dir,
      ["load", "--json", "-b", "libc", "-s", "mkdir", "target/bpf-programs/mk/mk.elf"],
      {
        command: [process.execPath, TSBPF],
        trigger: () =>
          void spawnSync(process.execPath, [
            "-e",
            `try { require("fs").mkdirSync(${JSON.stringify(path)}) } catch {}`,
          ]),
        expect: (l) =>
          l.startsWith('{"map":"events"') && l.includes(Buffer.from(path).toString("hex")),
      },
    );
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
  // errors a user can act on
  const again = spawnSync(process.execPath, [TSBPF, "add", "uprobe", "mk"], {
    cwd: p.dir,
    encoding: "utf8",
  });
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /mk\.ts already exists in .*; pick another name/);
  const bad = spawnSync(process.execPath, [TSBPF, "add", "socket", "x"], {
    cwd: p.dir,
    encoding: "utf8",
  });
  assert.equal(bad.status, 2);
  assert.match(
    bad.stderr,
    /unknown template "socket": use one of xdp, tc, tracepoint, kprobe, uprobe, fentry, perf-event, cgroup/,
  );
  const nowhere = spawnSync(process.execPath, [TSBPF, "add", "tc", "x"], {
    cwd: tmp,
    encoding: "utf8",
  });
  assert.match(nowhere.stderr, /no package\.json in .*: run tsbpf add in a project's directory/);
});

test("tsbpf new --template kprobe|fentry: the projects build and type-check (run in the VMs: templates-tracing.test.ts)", (t) => {
  if (!needsKernel(t)) return;
  for (const template of ["kprobe", "fentry"]) {
    const p = createTemplate(tmp, template, `t-${template}`);
    assert.ok(existsSync(join(p.dir, p.elf)), p.elf);
    assert.ok(existsSync(join(p.dir, "dist/loader.js")));
  }
});
