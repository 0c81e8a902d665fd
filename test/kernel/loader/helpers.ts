// Shared by the loader and CLI kernel tests: fixture paths, packets for BPF_PROG_TEST_RUN,
// little-endian helpers, bpftool as an independent witness, polling.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../../../", import.meta.url));
let built = false;

/** Absolute path of test/fixtures/obj/<name>, running the fixture build once if missing. */
export function fixture(name: string): string {
  const p = `${root}test/fixtures/obj/${name}`;
  if (!existsSync(p) && !built) {
    built = true;
    execFileSync("bash", [`${root}scripts/build-fixtures.sh`], { stdio: "ignore" });
  }
  if (!existsSync(p)) throw new Error(`fixture ${p} missing; run scripts/build-fixtures.sh`);
  return p;
}

/** Little-endian u32 key. */
export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** Little-endian u64 at `off` of a map value (undefined → undefined). */
export function u64(v: Uint8Array | undefined, off = 0): bigint | undefined {
  return v && new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(off, true);
}

/** An Ethernet + IPv4 + UDP frame of `length` bytes to `dport` (checksums left zero). */
export function udpFrame(dport: number, length = 64): Uint8Array {
  const f = new Uint8Array(length);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, 0x0800); // ETH_P_IP
  f[14] = 0x45; // version 4, ihl 5
  dv.setUint16(16, length - 14); // total length
  f[22] = 64; // ttl
  f[23] = 17; // IPPROTO_UDP
  f.set([10, 0, 0, 1], 26);
  f.set([10, 0, 0, 2], 30);
  dv.setUint16(34, 40000); // sport
  dv.setUint16(36, dport);
  dv.setUint16(38, length - 34);
  return f;
}

/** bpftool's JSON view of a map (by id). */
export function bpftoolMap(id: number): {
  name: string;
  type: string;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
  frozen?: number;
} {
  return JSON.parse(
    execFileSync("bpftool", ["-j", "map", "show", "id", String(id)], { encoding: "utf8" }),
  );
}

/** bpf_links that run program `progId` (`bpftool link show -j`). */
export function linksOfProgram(progId: number): { id: number; type: string }[] {
  const out = execFileSync("bpftool", ["-j", "link", "show"], { encoding: "utf8" });
  const list = JSON.parse(out || "[]") as { id: number; type: string; prog_id: number }[];
  return list.filter((l) => l.prog_id === progId);
}

/** Ids of every loaded program whose name is `name` (`bpftool prog show -j`). */
export function programIdsNamed(name: string): number[] {
  const out = execFileSync("bpftool", ["-j", "prog", "show"], { encoding: "utf8" });
  return (JSON.parse(out || "[]") as { id: number; name?: string }[])
    .filter((p) => p.name === name)
    .map((p) => p.id);
}

/** Poll `cond` until true or `ms` elapsed. */
export async function eventually(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}
