// What bpftool sees: the kernel tests' independent witness of loads, maps and links.
import { spawnSync } from "node:child_process";

/**
 * bpftool's JSON output. A listing (`link show`, `prog show`) walks ids and then opens each:
 * an object another process frees in between makes bpftool 7.1 fail (status 255), which a
 * machine running other tests does now and then — so a failed listing is tried again.
 */
export function bpftoolJson(args: string[]): unknown {
  let last = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = spawnSync("bpftool", ["-j", ...args], { encoding: "utf8" });
    if (r.status === 0) return JSON.parse(r.stdout || "[]");
    last = `bpftool -j ${args.join(" ")} failed (status ${r.status ?? r.signal}): ${r.stderr || r.stdout}`;
  }
  throw new Error(last);
}

/** Ids of all bpf_links in the system (`bpftool link show -j`). */
export function linkIds(): number[] {
  return (bpftoolJson(["link", "show"]) as { id: number }[]).map((l) => l.id);
}

/** bpf_links that run program `progId`. */
export function linksOfProgram(progId: number): { id: number; type: string }[] {
  const list = bpftoolJson(["link", "show"]) as { id: number; type: string; prog_id: number }[];
  return list.filter((l) => l.prog_id === progId);
}

/** Ids of every loaded program whose name is `name` (`bpftool prog show -j`). */
export function programIdsNamed(name: string): number[] {
  return (bpftoolJson(["prog", "show"]) as { id: number; name?: string }[])
    .filter((p) => p.name === name)
    .map((p) => p.id);
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
  return bpftoolJson(["map", "show", "id", String(id)]) as ReturnType<typeof bpftoolMap>;
}
