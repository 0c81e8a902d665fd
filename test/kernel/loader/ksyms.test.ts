// `__ksym` externs: typeless kernel symbols get their /proc/kallsyms address, kfunc calls the
// kernel FUNC's BTF id (src_reg 2), typed variables the kernel VAR's BTF id (src_reg 3).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Collection } from "../../../src/load/collection.js";
import { parseObject } from "../../../src/obj/object.js";
import { VerifierError } from "../../../src/load/verifier.js";
import { KconfigError } from "../../../src/load/kconfig.js";
import { kernelBtfTypeId } from "../../../src/load/kernel-btf.js";
import { spawnSync } from "node:child_process";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

const kallsyms = (name: string): bigint => {
  const m = new RegExp(`^([0-9a-f]+) \\w ${name}$`, "m").exec(
    readFileSync("/proc/kallsyms", "utf8"),
  );
  assert.ok(m, `${name} in /proc/kallsyms`);
  return BigInt(`0x${m[1]}`);
};

test("__ksym: typeless addresses from kallsyms, kfunc calls by BTF id", async (t) => {
  if (!needsKernel(t)) return;
  const ks = (await Collection.loadFile(fixture("ksyms.o"), { programs: [] })).object.ksyms;
  assert.deepEqual(ks?.map((k) => `${k.name}:${k.kind}${k.typeless ? ":typeless" : ""}`).sort(), [
    "bpf_task_from_pid:func",
    "bpf_task_release:func",
    "do_exit:var:typeless",
    "runqueues:var",
    "schedule:var:typeless",
  ]);
  const options = { globals: { target_pid: process.pid }, autoload: { ksyms_percpu: false } };
  if (kernelBtfTypeId("bpf_task_from_pid", "func") === undefined) {
    // Kernels before 6.2 have no such kfunc: the load names it (as libbpf's does) and loads nothing.
    await assert.rejects(
      Collection.loadFile(fixture("ksyms.o"), options),
      (e: unknown) =>
        e instanceof KconfigError && /bpf_task_from_pid __ksym: the kernel's BTF/.test(e.message),
    );
    return;
  }
  using c = await Collection.loadFile(fixture("ksyms.o"), options);
  // The kernel's translation calls the kfuncs by name (it resolved the BTF ids we passed).
  const prog = c.program("ksyms_sys_enter");
  const x = spawnSync("bpftool", ["prog", "dump", "xlated", "id", String(prog.info().id)], {
    encoding: "utf8",
  });
  assert.equal(x.status, 0, x.stderr);
  assert.match(x.stdout, /call bpf_task_from_pid#/);
  assert.match(x.stdout, /call bpf_task_release#/);
  {
    using link = prog.attach();
    for (let i = 0; i < 3; i++) void process.ppid; // getppid: a syscall in this process
    assert.ok(link);
  }
  const out = Buffer.from(c.map(".bss").get(new Uint8Array(4))!);
  assert.equal(out.readBigUInt64LE(0), kallsyms("schedule"));
  assert.equal(out.readBigUInt64LE(8), kallsyms("do_exit"));
  assert.equal(out.readInt32LE(16), process.pid, "bpf_task_from_pid(pid)->tgid");
  assert.ok(out.readUInt32LE(20) >= 3, "ran for each getppid");
});

test("__ksym: a typed per-CPU variable loads with its kernel BTF id", async (t) => {
  if (!needsKernel(t)) return;
  try {
    using c = await Collection.loadFile(fixture("ksyms.o"), {
      globals: { target_pid: process.pid },
      autoload: { ksyms_sys_enter: false },
    });
    // Kernels with CONFIG_KALLSYMS_ALL: the program runs and reads runqueues on CPU 1.
    using link = c.program("ksyms_percpu").attach();
    void process.ppid;
    assert.ok(link);
    const cpu = Buffer.from(c.map(".bss").get(new Uint8Array(4))!).readInt32LE(24);
    assert.equal(cpu, (await import("node:os")).cpus().length > 1 ? 1 : -1);
  } catch (e) {
    // Without it the verifier found the BTF id we passed and looked the symbol up, as for
    // libbpf (fixtures-bpftool.test.ts): the relocation itself was accepted.
    assert.ok(e instanceof VerifierError, String(e));
    assert.match(e.log, /ldimm64 failed to find the address for kernel symbol 'runqueues'/);
  }
});

test("__ksym: references are recorded per program, through the kfunc calls", () => {
  const obj = parseObject(new Uint8Array(readFileSync(fixture("ksyms.o"))));
  const names = (n: string) =>
    obj.programs
      .find((x) => x.name === n)!
      .ksymRefs!.map((r) => r.name)
      .sort();
  assert.deepEqual(names("ksyms_sys_enter"), [
    "bpf_task_from_pid",
    "bpf_task_release",
    "do_exit",
    "schedule",
  ]);
  assert.deepEqual(names("ksyms_percpu"), ["runqueues"]);
});
