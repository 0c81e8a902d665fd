// What bpftool and iproute2 see: the tests' independent witnesses of attach and detach.
import { execFileSync } from "node:child_process";

/** Ids of all bpf_links in the system (`bpftool link show -j`). */
export function linkIds(): number[] {
  const out = execFileSync("bpftool", ["-j", "link", "show"], { encoding: "utf8" });
  const list = JSON.parse(out || "[]") as { id: number }[];
  return list.map((l) => l.id);
}

/** bpf_links that run program `progId`. */
export function linksOfProgram(progId: number): { id: number; type: string }[] {
  const out = execFileSync("bpftool", ["-j", "link", "show"], { encoding: "utf8" });
  const list = JSON.parse(out || "[]") as { id: number; type: string; prog_id: number }[];
  return list.filter((l) => l.prog_id === progId);
}

/** Poll `cond` until true or `ms` elapsed (kernel teardown after a process dies is deferred). */
export async function eventually(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}
