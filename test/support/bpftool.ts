// What bpftool sees: the kernel tests' independent witness of loads, maps and links.
import { execFileSync } from "node:child_process";

function bpftoolJson(args: string[]): unknown {
  const out = execFileSync("bpftool", ["-j", ...args], { encoding: "utf8" });
  return JSON.parse(out || "[]");
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
