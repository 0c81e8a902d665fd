// `.kconfig` externs: the loader fills libbpf's `.kconfig` map (same layout and values as
// `bpftool prog loadall`), from the running kernel's config or a config file the caller
// names; weak externs read 0 when unset, strong ones are an error naming them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Collection } from "../../../src/load/collection.js";
import { KconfigError } from "../../../src/load/kconfig.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

const KEY = new Uint8Array(4);

/** Runs copy_kconfig once and decodes .bss `out` (layout in kconfig.bpf.c). */
function run(c: Collection) {
  assert.equal(c.program("copy_kconfig").testRun({ data: new Uint8Array(64) }).retval, 2);
  const b = Buffer.from(c.map(".bss").get(KEY)!);
  const lv = b.subarray(32, 48);
  return {
    kernelVersion: b.readUInt32LE(0),
    hz: b.readInt32LE(4),
    nrCpus: b.readBigUInt64LE(8),
    jit: b.readUInt32LE(16),
    module: b.readUInt32LE(20),
    bpfSyscall: b[24],
    absent: b[27],
    chr: b[28],
    negative: b.readInt16LE(30),
    localversion: lv.subarray(0, lv.indexOf(0) < 0 ? 16 : lv.indexOf(0)).toString(),
  };
}

function systemConfigText(): string {
  const boot = `/boot/config-${release()}`;
  if (existsSync(boot)) return readFileSync(boot, "utf8");
  return gunzipSync(readFileSync("/proc/config.gz")).toString();
}

test(".kconfig externs from the running kernel's config, the same map as libbpf's", async (t) => {
  if (!needsKernel(t)) return;
  const cfg = systemConfigText();
  const value = (n: string) => new RegExp(`^${n}=(.*)$`, "m").exec(cfg)?.[1];
  using c = await Collection.loadFile(fixture("kconfig.o"));
  const got = run(c);
  // "6.12.118+deb12-cloud-amd64": the leading numbers only
  const [maj, min, patch] = /^(\d+)\.(\d+)(?:\.(\d+))?/
    .exec(release())!
    .slice(1)
    .map((n) => Number(n ?? 0));
  assert.equal(got.kernelVersion, (maj! << 16) + (min! << 8) + Math.min(patch!, 255));
  assert.equal(got.hz, Number(value("CONFIG_HZ")));
  assert.equal(got.nrCpus, BigInt(value("CONFIG_NR_CPUS")!));
  assert.equal(got.jit, value("CONFIG_BPF_JIT") === "y" ? 1 : 0);
  assert.equal(got.bpfSyscall, 1);
  assert.equal(got.localversion, JSON.parse(value("CONFIG_LOCALVERSION") ?? '""'));
  assert.deepEqual([got.module, got.absent, got.chr, got.negative], [0, 0, 0, 0], "weak, unset");

  // libbpf (bpftool prog loadall) lays out and fills the same bytes.
  const dir = `/sys/fs/bpf/tsbpf_kconfig_${process.pid}`;
  try {
    const r = spawnSync(
      "bpftool",
      ["prog", "loadall", fixture("kconfig.o"), dir, "pinmaps", `${dir}/maps`],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const dump = spawnSync(
      "bpftool",
      ["-j", "map", "dump", "pinned", `${dir}/maps/kconfig_kconfig`],
      { encoding: "utf8" },
    );
    assert.equal(dump.status, 0, dump.stderr);
    const theirs = (JSON.parse(dump.stdout) as { value: string[] }[])[0]!.value.map(Number);
    assert.deepEqual([...c.map(".kconfig").get(KEY)!], theirs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(".kconfig externs from a config file: tristate m, char, negative, string cut to fit", async (t) => {
  if (!needsKernel(t)) return;
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-kconfig-"));
  try {
    const file = join(tmp, "config");
    const base = [
      "# comment",
      "CONFIG_BPF_SYSCALL=y",
      "CONFIG_BPF_JIT=m",
      "CONFIG_HZ=1000",
      "CONFIG_NR_CPUS=0x40",
      'CONFIG_LOCALVERSION="-a-much-too-long-version"',
      "CONFIG_TSBPF_MODULE=m",
      "CONFIG_TSBPF_CHAR=m",
      "CONFIG_TSBPF_NEGATIVE=-5",
      "# CONFIG_TSBPF_ABSENT is not set",
    ];
    writeFileSync(file, base.join("\n") + "\n");
    {
      using c = await Collection.loadFile(fixture("kconfig.o"), { kconfigPath: file });
      const got = run(c);
      assert.deepEqual(
        [got.hz, got.nrCpus, got.jit, got.module, got.chr, got.negative, got.absent],
        [1000, 64n, 2, 2, "m".charCodeAt(0), -5, 0],
      );
      assert.equal(got.localversion, "-a-much-too-lon", "15 bytes and the NUL");
    }
    // The kconfig option wins over the file.
    {
      using c = await Collection.loadFile(fixture("kconfig.o"), {
        kconfigPath: file,
        kconfig: "CONFIG_HZ=300\nCONFIG_TSBPF_ABSENT=y\n",
      });
      const got = run(c);
      assert.deepEqual([got.hz, got.absent], [300, 1]);
    }
    const fails = async (lines: string[], pattern: RegExp) => {
      writeFileSync(file, lines.join("\n") + "\n");
      await assert.rejects(
        Collection.loadFile(fixture("kconfig.o"), { kconfigPath: file }),
        (e) => e instanceof KconfigError && pattern.test(e.message),
      );
    };
    await fails(
      base.filter((l) => !l.startsWith("CONFIG_HZ")),
      /extern CONFIG_HZ __kconfig has no value in .*config .*declare it __weak/,
    );
    await fails(
      base.map((l) => (l.startsWith("CONFIG_BPF_SYSCALL") ? "CONFIG_BPF_SYSCALL=m" : l)),
      /CONFIG_BPF_SYSCALL __kconfig \(bool\): 'm' needs a tristate or char extern/,
    );
    await fails(
      base.map((l) => (l.startsWith("CONFIG_TSBPF_NEGATIVE") ? "CONFIG_TSBPF_NEGATIVE=40000" : l)),
      /CONFIG_TSBPF_NEGATIVE __kconfig \(int\): does not fit in 2 byte/,
    );
    await assert.rejects(
      Collection.loadFile(fixture("kconfig.o"), { kconfigPath: join(tmp, "nope") }),
      /cannot read kernel config .*nope/,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
