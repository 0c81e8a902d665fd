// Build small C eBPF programs with clang-19 for tests (interop with real compiler output).
// Objects are cached in the OS temp dir keyed by a hash of source + flags, so the suite pays
// ~30 ms per distinct program once. Writes are atomic (temp + rename): test files run in
// parallel processes and may build the same fixture at the same time.
import type { TestContext } from "node:test";
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inCI } from "./kernel.js";

export const CLANG = process.env.CLANG ?? "clang-19";
export const LLVM_OBJDUMP = process.env.LLVM_OBJDUMP ?? "llvm-objdump-19";

const cacheDir = join(tmpdir(), "tsbpf-fixtures");
const root = fileURLToPath(new URL("../../../", import.meta.url));
let fixturesBuilt = false;
const multiarch = `/usr/include/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu`;

function toolPresent(tool: string): boolean {
  return spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0;
}

let clangOk: boolean | undefined;
/** Whether clang-19 can be run here. */
export function hasClang(): boolean {
  return (clangOk ??= toolPresent(CLANG));
}

let objdumpOk: boolean | undefined;
/** Whether llvm-objdump-19 can be run here. */
export function hasObjdump(): boolean {
  return (objdumpOk ??= toolPresent(LLVM_OBJDUMP));
}

/**
 * Call at the start of a test that builds C. Returns false (test skipped) when clang-19 is
 * missing; under CI=true it throws instead, so a missing toolchain never hides behind green.
 */
export function needsClang(t: TestContext): boolean {
  if (hasClang()) return true;
  if (inCI) throw new Error(`${CLANG} is required under CI (apt-get install clang-19)`);
  t.skip(`${CLANG} not installed`);
  return false;
}

/** Same rule as needsClang for llvm-objdump-19. */
export function needsObjdump(t: TestContext): boolean {
  if (hasObjdump()) return true;
  if (inCI) throw new Error(`${LLVM_OBJDUMP} is required under CI (apt-get install llvm-19)`);
  t.skip(`${LLVM_OBJDUMP} not installed`);
  return false;
}

/**
 * Absolute path of test/fixtures/obj/<name> (built by scripts/build-fixtures.sh), running
 * that build once per process when the object is missing.
 */
export function fixture(name: string): string {
  const p = `${root}test/fixtures/obj/${name}`;
  if (!existsSync(p) && !fixturesBuilt) {
    fixturesBuilt = true;
    execFileSync("bash", [`${root}scripts/build-fixtures.sh`], { stdio: "ignore" });
  }
  if (!existsSync(p)) throw new Error(`fixture ${p} missing; run scripts/build-fixtures.sh`);
  return p;
}

export interface BuildOptions {
  /** extra clang flags, e.g. ["-mcpu=v4"] */
  flags?: string[];
}

/**
 * Compile C source with `clang-19 -O2 -g -target bpf -c` and return the object's path.
 * `name` only labels the file (and clang's diagnostics); the cache key is the content.
 * Throws with clang's stderr when compilation fails.
 */
export function buildCPath(source: string, name: string, opts: BuildOptions = {}): string {
  const flags = ["-O2", "-g", "-target", "bpf", ...(opts.flags ?? [])];
  const key = createHash("sha256")
    .update(CLANG + "\0" + flags.join("\0") + "\0" + source)
    .digest("hex")
    .slice(0, 16);
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, "_");
  const out = join(cacheDir, `${safe}-${key}.o`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  const src = join(cacheDir, `${safe}-${key}.c`);
  writeFileSync(src, source);
  const tmp = `${out}.${process.pid}.tmp`;
  const includes = existsSync(multiarch) ? ["-I", multiarch] : [];
  try {
    execFileSync(CLANG, [...flags, ...includes, "-c", src, "-o", tmp], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    throw new Error(`building C fixture ${name} with ${CLANG} failed:\n${stderr}`, { cause: e });
  }
  renameSync(tmp, out);
  return out;
}

/** Compile C source (see buildCPath) and return the object bytes. */
export function buildC(source: string, name: string, opts: BuildOptions = {}): Uint8Array {
  return new Uint8Array(readFileSync(buildCPath(source, name, opts)));
}

/** Run llvm-objdump-19 with the given arguments on an object file; returns stdout. */
export function objdump(path: string, args: string[]): string {
  return execFileSync(LLVM_OBJDUMP, [...args, path], { encoding: "utf8" });
}

/** A few small C programs covering maps, globals, helpers, bpf-to-bpf calls and atomics. */
export const SAMPLE_C = {
  xdpCounter: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");
int verdict = XDP_PASS;
SEC("xdp") int count_packets(struct xdp_md *ctx) {
  __u32 k = ctx->ingress_ifindex;
  __u64 *v = bpf_map_lookup_elem(&counts, &k);
  if (v) __sync_fetch_and_add(v, 1);
  return verdict;
}
char LICENSE[] SEC("license") = "GPL";
`,
  subprog: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");
static __noinline int classify(void *data, void *end) {
  unsigned char *p = data;
  if (p + 14 > (unsigned char *)end) return -1;
  return bpf_ntohs(*(__u16 *)(p + 12)) == 0x0800 ? 1 : 0;
}
SEC("xdp") int classify_xdp(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  int c = classify(data, end);
  if (c > 0) {
    __u32 *e = bpf_ringbuf_reserve(&events, sizeof(__u32), 0);
    if (e) { *e = (__u32)c; bpf_ringbuf_submit(e, 0); }
  }
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "Dual BSD/GPL";
`,
  tracepoint: `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
const volatile int target_pid = 0;
__u64 hits[4] = {};
SEC("tracepoint/syscalls/sys_enter_write") int on_write(void *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  int pid = id >> 32;
  if (target_pid && pid != target_pid) return 0;
  hits[id & 3] += 1;
  bpf_printk("write from %d", pid);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`,
} as const;

/**
 * One socket-filter program spelling (nearly) every instruction form in inline asm; build it
 * with `flags: ["-mcpu=v4"]`. Not meant to load (it would not verify), only to be disassembled.
 */
export const ALL_FORMS_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket") int all_forms(void *ctx) {
  asm volatile(
    "r0 = 2\\n w1 = -3\\n r2 = r1\\n w3 = w2\\n r3 += 14\\n w3 -= w2\\n r4 *= r3\\n r4 /= 7\\n r4 %%= r3\\n"
    "w4 s/= w3\\n r4 s%%= 5\\n r5 |= 0x10\\n r5 &= r4\\n r5 <<= 3\\n r5 >>= r1\\n r5 s>>= 2\\n w5 s>>= w1\\n"
    "r5 ^= -1\\n r6 = -r6\\n w6 = -w6\\n"
    "r1 = be16 r1\\n r1 = le32 r1\\n r1 = be64 r1\\n r1 = bswap16 r1\\n r1 = bswap64 r1\\n"
    "r1 = (s8)r2\\n w1 = (s16)w2\\n r1 = (s32)r2\\n"
    "r1 = *(u32 *)(r1 + 4)\\n r1 = *(u8 *)(r1 - 4)\\n r1 = *(u64 *)(r10 - 8)\\n"
    "r1 = *(s8 *)(r1 + 1)\\n r1 = *(s16 *)(r1 + 2)\\n r1 = *(s32 *)(r1 + 4)\\n"
    "*(u32 *)(r10 - 4) = r1\\n *(u16 *)(r10 - 6) = r1\\n *(u64 *)(r10 - 16) = 7\\n *(u8 *)(r10 - 1) = -1\\n"
    "lock *(u64 *)(r1 + 0) += r2\\n lock *(u64 *)(r1 + 0) &= r2\\n lock *(u64 *)(r1 + 0) |= r2\\n"
    "lock *(u64 *)(r1 + 0) ^= r2\\n r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)\\n"
    "w2 = atomic_fetch_and((u32 *)(r1 + 0), w2)\\n r2 = xchg_64(r1 + 0, r2)\\n w2 = xchg32_32(r1 + 0, w2)\\n"
    "r0 = cmpxchg_64(r1 + 0, r0, r2)\\n w0 = cmpxchg32_32(r1 + 0, w0, w2)\\n"
    "r1 = 0x123456789abcdef ll\\n r1 = -1 ll\\n"
    "if r3 > r2 goto +5\\n if r1 == 0x5 goto +1\\n if w1 > 5 goto +2\\n if w1 s< w2 goto -2\\n"
    "if r1 & 0x8 goto +0\\n if r1 s>= -3 goto +0\\n goto +1\\n gotol +1\\n"
    "call 1\\n call 131\\n r0 = *(u8 *)skb[12]\\n r0 = *(u16 *)skb[r1]\\n"
    ::: "r0", "r1", "r2", "r3", "r4", "r5", "r6", "memory");
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
