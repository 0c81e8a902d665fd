#!/usr/bin/env node
// Runs the kernel test suite on other kernels in VMs, and on the host, and writes the table
// of what passes where (docs/kernels.md). `make test-kernels [KERNEL=6.1]` calls this.
//
//   node scripts/vm/run.js [--kernel LABEL]... [--host] [--no-vm] [--accel tcg|kvm]
//                          [--timeout SECONDS] [--test-timeout SECONDS] [--doc PATH] [--only FILE]...
//                          [--optional]
//   --optional: where the VMs cannot be set up (no qemu, no kernel package from apt), say why
//   and exit 0 — except under CI=true, where that fails like any kernel test that cannot run;
//   --only FILE: only the test files whose path contains FILE (a partial run: recorded as
//   results/<label>.partial.json, docs/kernels.md untouched);
//   --timeout: the whole guest (default 3600 s, VM_TIMEOUT); --test-timeout: each test
//   file (node --test-timeout, default 900 s, VM_TEST_TIMEOUT); VM_ACCEL, VM_CPUS, VM_MEMORY, VM_DIR likewise.
//   VM_TIME_SCALE: the guest's TSBPF_TIME_SCALE (test/support/time-scale.ts), default TCG_TIME_SCALE.
//
// Per kernel: the Debian cloud kernel package is fetched with `apt-get download` and unpacked
// into build/vm/<label>/ (never installed); an initramfs (scripts/vm/initramfs.sh) carries
// busybox, node, the tools the tests spawn, the built project and the kernel's modules; qemu
// boots it with the results channel on the second serial port. A guest that does not finish
// within the time limit is killed and reported as "timeout".
// Exit status: 0 when every run (VM and host) passed, 1 otherwise, 2 on a usage error.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  createReadStream,
} from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { renderKernelsDoc } from "./table.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const vmDir = process.env.VM_DIR ?? join(root, "build", "vm");
const resultsDir = join(vmDir, "results");

/**
 * The kernels of the matrix: Debian's cloud flavour (virtio, no hardware drivers: small and
 * quick to boot). `series` picks the newest linux-image-<series>.*-cloud-amd64 apt offers;
 * set TSBPF_KERNEL_PKG_<label with _ for .> to pin one package.
 */
const KERNELS = [
  // `require`: features this kernel has, so a test declaring one must run, never skip
  // (TSBPF_REQUIRE_FEATURES, test/support/kernel.ts).
  { label: "6.1", series: "6.1", require: ["kprobes", "fentry", "ringbuf"] },
  { label: "6.12", series: "6.12", require: ["kprobes", "fentry", "ringbuf"] },
];

/**
 * How much slower the kernel tests run in a TCG guest than on the development machine, which
 * tests multiply their waits by (TSBPF_TIME_SCALE). Measured on the 2-CPU development machine:
 * the whole suite 1.8 min on the host, 15-22 min in the 6.1/6.12 guests (8-12x); a 10,000-request
 * HTTP burst 4 s on the host, 77-129 s in a guest (20-30x, the machine shared with other work).
 */
const TCG_TIME_SCALE = 10;

/** Modules the tests need that the cloud kernels build as modules (veth pairs, clsact, cls_bpf; nf_conntrack for the module-kfunc test). */
const MODULES = ["veth", "sch_ingress", "cls_bpf", "act_bpf", "nf_conntrack"];

/** Test files the VM image cannot run, and why (they are listed as "not run" in the table). */
const VM_EXCLUDED = {
  "dist/test/kernel/bench-c.test.js":
    "builds the libbpf C benchmarks with gcc and clang, which the VM image does not carry",
  "dist/test/kernel/bench-smoke.test.js":
    "rebuilds the C fixtures with clang and gcc (scripts/build-fixtures.sh), which the VM image does not carry",
  "dist/test/kernel/e2e/new-project.test.js":
    "runs `npm install`, which needs the npm registry, which the VM has no network to reach",
  "dist/test/kernel/e2e/packed-install.test.js":
    "packs the package and installs it with npm, which needs the npm registry (the VM has no network) and the prebuild toolchains",
  "dist/test/kernel/tutorial/tutorial.test.js":
    "runs the tutorial's `npm install`, which needs the npm registry, which the VM has no network to reach",
  "dist/test/kernel/fixtures-bpftool.test.js":
    "first runs scripts/build-fixtures.sh, which needs clang-19 and gcc, which the VM image does not carry",
};

function usage(msg) {
  console.error(`run.js: ${msg}`);
  console.error(
    "usage: node scripts/vm/run.js [--kernel LABEL]... [--host] [--no-vm] [--accel tcg|kvm] [--timeout SECONDS] [--test-timeout SECONDS] [--doc PATH] [--only FILE]... [--optional]",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    kernels: [],
    host: false,
    vm: true,
    accel: process.env.VM_ACCEL ?? "tcg",
    timeout: Number(process.env.VM_TIMEOUT ?? 3600),
    // per test file, inside the guest (node --test-timeout): a hung file fails, the run goes on
    testTimeout: Number(process.env.VM_TEST_TIMEOUT ?? 900),
    // extra VAR=value settings for the guest's test run
    testEnv: process.env.VM_TEST_ENV ?? "",
    doc: join(root, "docs", "kernels.md"),
    only: [],
    optional: false,
    memory: process.env.VM_MEMORY ?? "3G",
    cpus: Number(process.env.VM_CPUS ?? 2),
    timeScale: process.env.VM_TIME_SCALE,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === "--kernel") o.kernels.push(...val().split(/[ ,]+/).filter(Boolean));
    else if (a === "--host") o.host = true;
    else if (a === "--no-vm") o.vm = false;
    else if (a === "--optional") o.optional = true;
    else if (a === "--accel") o.accel = val();
    else if (a === "--timeout") o.timeout = Number(val());
    else if (a === "--test-timeout") o.testTimeout = Number(val());
    else if (a === "--doc") o.doc = val();
    else if (a === "--only") o.only.push(val());
    else usage(`unknown argument ${a}`);
  }
  if (!["tcg", "kvm"].includes(o.accel)) usage(`--accel must be tcg or kvm, not ${o.accel}`);
  if (!(o.timeout > 0)) usage("--timeout must be a positive number of seconds");
  if (!(o.testTimeout > 0)) usage("--test-timeout must be a positive number of seconds");
  o.timeScale = Number(o.timeScale ?? (o.accel === "tcg" ? TCG_TIME_SCALE : 1));
  if (!(o.timeScale >= 1)) usage("VM_TIME_SCALE must be a number >= 1");
  if (o.kernels.length === 0) o.kernels = KERNELS.map((k) => k.label);
  for (const k of o.kernels)
    if (!KERNELS.some((x) => x.label === k))
      usage(`unknown kernel ${k}; known: ${KERNELS.map((x) => x.label).join(", ")}`);
  return o;
}

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
}

// ------------------------------------------------------------------ kernels from apt

/** The newest linux-image-<series>.*-cloud-amd64 with an install candidate (name, version). */
function resolvePackage(k) {
  const pinned = process.env[`TSBPF_KERNEL_PKG_${k.label.replace(/\./g, "_")}`];
  const esc = k.series.replace(/\./g, "\\.");
  const re = new RegExp(`^linux-image-${esc}\\.[0-9][^ ]*-cloud-amd64$`);
  const names = pinned
    ? [pinned]
    : sh("apt-cache", ["pkgnames", `linux-image-${k.series}.`])
        .split("\n")
        .filter((n) => re.test(n));
  const found = [];
  for (const name of names) {
    const policy = sh("apt-cache", ["policy", name]);
    const m = /Candidate: (\S+)/.exec(policy);
    if (m && m[1] !== "(none)") found.push({ name, version: m[1] });
  }
  if (found.length === 0)
    throw new Error(
      `apt offers no linux-image-${k.series}.*-cloud-amd64 package` +
        (pinned ? ` (pinned: ${pinned})` : "") +
        `; run apt-get update, or check the Debian sources (bookworm, bookworm-security)`,
    );
  found.sort((a, b) =>
    spawnSync("dpkg", ["--compare-versions", a.version, "lt", b.version]).status === 0 ? 1 : -1,
  );
  return found[0];
}

/** Downloads and unpacks the kernel package once; returns paths and identity. */
function fetchKernel(k, refreshed = false) {
  const pkg = resolvePackage(k);
  const dir = join(vmDir, k.label);
  const stamp = join(dir, "package");
  const want = `${pkg.name} ${pkg.version}`;
  if (!existsSync(stamp) || readFileSync(stamp, "utf8").trim() !== want) {
    console.log(`[${k.label}] apt-get download ${pkg.name} (${pkg.version})`);
    const debs = join(vmDir, "debs");
    mkdirSync(debs, { recursive: true });
    try {
      sh("apt-get", ["download", `${pkg.name}=${pkg.version}`], { cwd: debs });
    } catch (e) {
      if (refreshed) throw e;
      // Stale package lists name versions the mirror no longer has: refresh once and retry.
      console.log(
        `[${k.label}] apt-get download failed (${String(e.stderr ?? e)
          .trim()
          .split("\n")
          .pop()}); apt-get update and retry`,
      );
      sh("apt-get", ["update", "-qq"]);
      return fetchKernel(k, true);
    }
    const deb = readdirSync(debs).find((f) => f.startsWith(`${pkg.name}_`) && f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${pkg.name} left no .deb in ${debs}`);
    sh("rm", ["-rf", join(dir, "root")]);
    mkdirSync(join(dir, "root"), { recursive: true });
    sh("dpkg-deb", ["-x", join(debs, deb), join(dir, "root")]);
    writeFileSync(stamp, want + "\n");
  }
  const boot = join(dir, "root", "boot");
  const vmlinuz = readdirSync(boot).find((f) => f.startsWith("vmlinuz-"));
  if (!vmlinuz) throw new Error(`${pkg.name} has no /boot/vmlinuz-*`);
  return { ...pkg, dir, kroot: join(dir, "root"), vmlinuz: join(boot, vmlinuz) };
}

// ------------------------------------------------------------------ the tests to run

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".test.js") ? [p] : [];
  });
}

function testFiles(only) {
  const all = walk(join(root, "dist", "test", "kernel"))
    .map((p) => relative(root, p))
    .sort();
  if (all.length === 0)
    throw new Error("no compiled kernel tests in dist/test/kernel: run `npm run build` first");
  if (only.length === 0) return all;
  const picked = all.filter((f) => only.some((o) => f.includes(o)));
  if (picked.length === 0) throw new Error(`--only ${only.join(", ")} matches no test file`);
  return picked;
}

// ------------------------------------------------------------------ one VM run

async function concat(parts, out) {
  const w = createWriteStream(out);
  for (const p of parts) await pipeline(createReadStream(p), w, { end: false });
  w.end();
  await new Promise((r) => w.on("close", r));
}

function parseResults(path) {
  const out = { boot: undefined, tests: [], exit: undefined };
  if (!existsSync(path)) return out;
  for (const raw of readFileSync(path, "utf8").split("\n")) {
    const line = raw.replace(/\r/g, "").trim();
    if (!line.startsWith("{")) continue;
    let ev;
    try {
      ev = JSON.parse(line);
    } catch {
      continue; // a line cut by the kill of a hung guest
    }
    if (ev.type === "boot") out.boot = ev;
    else if (ev.type === "test") out.tests.push(ev);
    else if (ev.type === "exit") out.exit = ev;
  }
  return out;
}

async function runVm(k, opts, userland, files) {
  const kernel = fetchKernel(k);
  const modCpio = join(kernel.dir, "modules.cpio");
  const envCpio = join(kernel.dir, "env.cpio");
  const initrd = join(kernel.dir, "initrd.cpio");
  const script = join(root, "scripts", "vm", "initramfs.sh");
  sh(script, ["modules", kernel.kroot, modCpio, ...MODULES]);
  const vmFiles = files.filter((f) => !(f in VM_EXCLUDED));
  sh(script, [
    "env",
    envCpio,
    `KERNEL_LABEL=${k.label}`,
    `TEST_FILES=${vmFiles.join(" ")}`,
    // TSBPF_SNAPSHOT=0: the guest is thrown away after one run, so `tsbpf build` making its
    // start-up snapshot (in the background; minutes under TCG) would only slow the tests.
    `TEST_ENV=TSBPF_REQUIRE_FEATURES=${k.require.join(",")} TSBPF_TIME_SCALE=${opts.timeScale} TSBPF_SNAPSHOT=0 ${opts.testEnv}`.trim(),
    `TEST_TIMEOUT_MS=${opts.testTimeout * 1000}`,
  ]);
  await concat([userland, modCpio, envCpio], initrd);

  const consoleLog = join(kernel.dir, "console.log");
  const resultsLog = join(kernel.dir, "results.jsonl");
  writeFileSync(resultsLog, "");
  const args = [
    "-machine",
    "q35",
    "-accel",
    opts.accel,
    // TCG: the default qemu64 CPU; "-cpu max" made the suite ~3x slower. KVM: see docs/kernels.md.
    ...(opts.accel === "kvm" ? ["-cpu", "host"] : []),
    "-m",
    opts.memory,
    "-smp",
    String(opts.cpus),
    "-kernel",
    kernel.vmlinuz,
    "-initrd",
    initrd,
    "-append",
    "console=ttyS0 panic=-1 oops=panic quiet",
    "-display",
    "none",
    "-monitor",
    "none",
    "-no-reboot",
    "-nic",
    "none",
    "-chardev",
    "stdio,id=con,signal=off",
    "-serial",
    "chardev:con",
    "-serial",
    `file:${resultsLog}`,
  ];
  console.log(
    `[${k.label}] booting ${kernel.name} ${kernel.version} (${opts.accel}, ${opts.cpus} CPUs, ${opts.memory}, limit ${opts.timeout}s)`,
  );
  const started = Date.now();
  const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(consoleLog);
  let partial = "";
  const utf8 = new StringDecoder("utf8"); // chunks may split a multi-byte character
  const show = process.env.VM_QUIET ? () => {} : (s) => process.stdout.write(s);
  qemu.stdout.on("data", (b) => {
    log.write(b);
    const text = partial + utf8.write(b);
    const lines = text.split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) show(`[${k.label}] ${l.replace(/\r$/, "")}\n`);
  });
  let stderr = "";
  qemu.stderr.on("data", (b) => (stderr += b.toString("utf8")));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    qemu.kill("SIGKILL");
  }, opts.timeout * 1000);
  const status = await new Promise((resolve) =>
    qemu.on("close", (code, sig) => resolve({ code, sig })),
  );
  clearTimeout(timer);
  log.end();
  const wallSeconds = Math.round((Date.now() - started) / 100) / 10;
  const r = parseResults(resultsLog);
  let outcome;
  if (timedOut) outcome = `timeout: killed after ${opts.timeout} s`;
  else if (!r.boot)
    outcome = `no boot: qemu exited ${status.code ?? status.sig} before the tests started${stderr ? ` (${stderr.trim().split("\n")[0]})` : ""}`;
  else if (!r.exit)
    outcome = "crashed: the guest stopped before the test run ended (see console.log)";
  else outcome = r.exit.code === 0 ? "pass" : `fail: node --test exited ${r.exit.code}`;
  const result = {
    label: k.label,
    kernel: r.boot?.kernel ?? "",
    package: `${kernel.name} ${kernel.version}`,
    accel: opts.accel,
    timeScale: opts.timeScale,
    cpus: opts.cpus,
    wallSeconds,
    testSeconds: r.exit ? Math.round((r.exit.end - r.exit.start) * 10) / 10 : undefined,
    outcome,
    ok: outcome === "pass",
    files: vmFiles,
    excluded: Object.fromEntries(
      files.filter((f) => f in VM_EXCLUDED).map((f) => [f, VM_EXCLUDED[f]]),
    ),
    tests: r.tests,
    consoleLog: relative(root, consoleLog),
  };
  console.log(`[${k.label}] ${outcome} — ${summary(r.tests)}, ${wallSeconds} s wall`);
  return result;
}

function summary(tests) {
  const n = (s) => tests.filter((t) => t.status === s).length;
  return `${n("pass")} passed, ${n("fail")} failed, ${n("skip")} skipped`;
}

// ------------------------------------------------------------------ the host run

async function runHost(files) {
  const out = join(resultsDir, "host.jsonl");
  const started = Date.now();
  console.log(`[host] node --test on ${files.length} files (CI=${process.env.CI ?? ""})`);
  const child = spawn(
    process.execPath,
    [
      "--test",
      "--test-concurrency=1",
      "--test-reporter=./scripts/vm/reporter.js",
      `--test-reporter-destination=${out}`,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      ...files,
    ],
    { cwd: root, stdio: "inherit" },
  );
  const code = await new Promise((r) => child.on("close", (c) => r(c ?? 1)));
  const wallSeconds = Math.round((Date.now() - started) / 100) / 10;
  const r = parseResults(out);
  const outcome = code === 0 ? "pass" : `fail: node --test exited ${code}`;
  console.log(`[host] ${outcome} — ${summary(r.tests)}, ${wallSeconds} s wall`);
  return {
    label: "host",
    kernel: sh("uname", ["-r"]).trim(),
    package: `the machine's own kernel${process.env.CI === "true" ? " (CI=true)" : ""}`,
    accel: "none",
    cpus: Number(sh("nproc", []).trim()),
    wallSeconds,
    testSeconds: wallSeconds,
    outcome,
    ok: code === 0,
    files,
    excluded: {},
    tests: r.tests,
  };
}

// ------------------------------------------------------------------ main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(resultsDir, { recursive: true });
  const files = testFiles(opts.only);
  // A run of some files only (--only) is recorded apart and never makes the table: the table
  // shows whole runs of the suite.
  const partial = opts.only.length > 0;
  const record = (label, r) =>
    writeFileSync(
      join(resultsDir, `${label}${partial ? ".partial" : ""}.json`),
      JSON.stringify(r, null, 1) + "\n",
    );
  const results = [];
  if (opts.vm) {
    const userland = join(vmDir, "userland.cpio");
    try {
      if (spawnSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" }).status !== 0)
        throw new Error(
          "qemu-system-x86_64 is not installed: apt-get install qemu-system-x86 (make test-kernels does it)",
        );
      if (opts.accel === "kvm" && !existsSync("/dev/kvm"))
        throw new Error("--accel kvm needs /dev/kvm; use --accel tcg");
      for (const label of opts.kernels) fetchKernel(KERNELS.find((x) => x.label === label));
    } catch (e) {
      if (!opts.optional || process.env.CI === "true") throw e;
      const why = String(e.stderr || e.message)
        .trim()
        .split("\n")
        .pop();
      console.log(
        `run.js: the VM tests cannot run here, skipped: ${why} (under CI=true this fails)`,
      );
      process.exit(0);
    }
    console.log("[vm] building the initramfs (busybox, node, tools, the built project)");
    sh(join(root, "scripts", "vm", "initramfs.sh"), ["userland", userland]);
    for (const label of opts.kernels) {
      const k = KERNELS.find((x) => x.label === label);
      const r = await runVm(k, opts, userland, files);
      record(label, r);
      results.push(r);
    }
  }
  if (opts.host) {
    const r = await runHost(files);
    record("host", r);
    results.push(r);
  }
  if (partial) {
    for (const r of results)
      console.log(`${r.label.padEnd(5)} ${r.outcome} (${r.wallSeconds} s): ${summary(r.tests)}`);
    console.log(`--only: a partial run; ${relative(root, opts.doc)} left as it is`);
    process.exit(results.every((r) => r.ok) ? 0 : 1);
  }
  // The table covers every run on record (this one and earlier ones), host first.
  const all = ["host", ...KERNELS.map((k) => k.label)]
    .map((l) => join(resultsDir, `${l}.json`))
    .filter((p) => existsSync(p))
    .map((p) => JSON.parse(readFileSync(p, "utf8")));
  if (all.length > 0) {
    writeFileSync(opts.doc, renderKernelsDoc(all));
    console.log(`wrote ${relative(root, opts.doc)} (${all.map((r) => r.label).join(", ")})`);
  }
  for (const r of results) console.log(`${r.label.padEnd(5)} ${r.outcome} (${r.wallSeconds} s)`);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

main().catch((e) => {
  console.error(`run.js: ${e.message}`);
  process.exit(1);
});
