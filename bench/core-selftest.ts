// CO-RE conformance, tsbpf vs libbpf, on objects that check their own relocations: cilium/ebpf's
// btf/testdata (relocs.c, relocs_read.c, relocs_enum.c) compute field offsets, sizes,
// existence, type ids, type sizes/matches and enum values through CO-RE and return the failing
// line (0 when every value is what the C expects). Each program is loaded on its own by tsbpf
// and by libbpf (build/bench/core_selftest, btf_custom_path), with CO-RE resolved against the
// target BTF cilium's test uses, then run once (BPF_PROG_TEST_RUN). Both loaders must agree
// program by program: same load refusal (the err_* programs are ambiguous on purpose), same
// return value. A benchmark, not a test: the objects are built from fetched sources
// (scripts/build-core-corpus.sh cilium=GITDIR → .corpus/obj/cilium-*.o); bench/README.md
// records a run.
//
//   scripts/build-bench-c.sh && node dist/bench/core-selftest.js [--dir .corpus/obj]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Collection, parseObject } from "tsbpf";
import { parseElf } from "../src/obj/elf.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const LIBBPF = join(ROOT, "build/bench/core_selftest");

/** Object and the object whose .BTF is its CO-RE target, as cilium's btf tests pair them. */
const PAIRS: [string, string | "vmlinux"][] = [
  ["cilium-relocs.o", "cilium-relocs.o"],
  ["cilium-relocs_read.o", "cilium-relocs_read_tgt.o"],
  ["cilium-relocs_enum.o", "vmlinux"],
];

type Outcome = string; // "retval N" | "load-error" | "run-error"

function targetBtf(dir: string, tmp: string, target: string): string {
  if (target === "vmlinux") return "/sys/kernel/btf/vmlinux";
  const btf = parseElf(readFileSync(join(dir, target))).section(".BTF");
  if (!btf) throw new Error(`${target} has no .BTF section`);
  const path = join(tmp, `${target}.btf`);
  writeFileSync(path, btf.data);
  return path;
}

function viaLibbpf(obj: string, btf: string): Map<string, Outcome> {
  const r = spawnSync(LIBBPF, [obj, btf], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`core_selftest ${obj}: ${r.stderr}`);
  const out = new Map<string, Outcome>();
  for (const line of r.stdout.trim().split("\n")) {
    const [name, what, n] = line.split(" ");
    out.set(name!, what === "retval" ? `retval ${n}` : what!);
  }
  return out;
}

function viaTsbpf(obj: string, btf: string): Map<string, Outcome> {
  const bytes = readFileSync(obj);
  const out = new Map<string, Outcome>();
  for (const { name } of parseObject(bytes).programs) {
    let c: Collection;
    try {
      c = Collection.load(bytes, { btfPath: btf, programs: [name] });
    } catch {
      out.set(name, "load-error");
      continue;
    }
    try {
      out.set(name, `retval ${c.program(name).testRun({ data: new Uint8Array(64) }).retval}`);
    } catch {
      out.set(name, "run-error");
    } finally {
      c.close();
    }
  }
  return out;
}

function main(): void {
  const { values } = parseArgs({ options: { dir: { type: "string", default: ".corpus/obj" } } });
  const dir = values.dir!;
  if (!existsSync(LIBBPF)) throw new Error(`${LIBBPF} is missing: run scripts/build-bench-c.sh`);
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-core-selftest-"));
  let agree = 0;
  let differ = 0;
  console.log("| object | program | libbpf | tsbpf | |\n| --- | --- | --- | --- | --- |");
  try {
    for (const [obj, target] of PAIRS) {
      const path = join(dir, obj);
      if (!existsSync(path))
        throw new Error(`${path} is missing: scripts/build-core-corpus.sh cilium=GITDIR`);
      const btf = targetBtf(dir, tmp, target);
      const theirs = viaLibbpf(path, btf);
      const ours = viaTsbpf(path, btf);
      for (const [name, want] of theirs) {
        const got = ours.get(name) ?? "not loaded";
        const same = got === want;
        if (same) agree++;
        else differ++;
        console.log(`| ${obj} | ${name} | ${want} | ${got} | ${same ? "=" : "DIFFERS"} |`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\n${agree} programs agree, ${differ} differ`);
  if (differ > 0) process.exitCode = 1;
}

main();
