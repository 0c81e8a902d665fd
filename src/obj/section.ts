// Program section names → program type, expected attach type and attach target.
//
// Two conventions meet here. libbpf's SEC() names (tools/lib/bpf/libbpf.c section_defs):
// `xdp`, `tc/ingress`, `tracepoint/<category>/<name>`, `kprobe/<fn>`, `uprobe/<binary>:<sym>`…
// and RedBPF's `<kind>/<program name>` sections (`xdp/trace_http`, `socketfilter/x`,
// `tracepoint/x`) where the part after the slash names the program, not an attach target.
// Where the two disagree, libbpf's meaning wins for names libbpf accepts; the RedBPF reading
// is used only for names libbpf would reject.
// The names themselves, and what each kind is, live in the program-kind table (program-kinds.ts).
import type { AttachType, ProgType } from "./consts.js";
import { KINDS, SECTIONS, type ProgramKind } from "./program-kinds.js";

export type { ProgramKind };

export interface ProgramSection {
  kind: ProgramKind;
  /** enum bpf_prog_type */
  progType: ProgType;
  /** BPF_PROG_LOAD expected_attach_type, when the kind needs one */
  expectedAttachType?: AttachType;
  /**
   * What the section names as attach point, when it names one: `syscalls/sys_enter_openat`
   * (tracepoint), a function (kprobe, fentry, tp_btf, lsm hook), `ingress` (tc),
   * `/bin/bash:readline` (uprobe), an iterator (`task`).
   */
  target?: string;
  /** For uprobe targets of the form `<binary>:<symbol>[+<offset>]` or `<binary>:<offset>`. */
  uprobe?: { binary: string; symbol?: string; offset?: number };
  /** Label for `Loaded: <name>, <displayKind>` (RedBPF's program kinds where it has them). */
  displayKind: string;
  /** BPF_PROG_LOAD prog_flags the section implies (sleepable `.s`, `xdp.frags`) */
  progFlags: number;
  /** Which naming convention matched. */
  convention: "libbpf" | "redbpf";
}

/** Parse `<binary>:<symbol>[+<offset>]` / `<binary>:<offset>`; undefined without a `:`. */
export function parseUprobeTarget(
  target: string,
): { binary: string; symbol?: string; offset?: number } | undefined {
  const colon = target.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const binary = target.slice(0, colon);
  const rest = target.slice(colon + 1);
  if (rest === "") return { binary };
  if (/^(0x[0-9a-fA-F]+|\d+)$/.test(rest)) return { binary, offset: Number(rest) };
  const m = /^([^+]+)\+(0x[0-9a-fA-F]+|\d+)$/.exec(rest);
  if (m) return { binary, symbol: m[1]!, offset: Number(m[2]) };
  return { binary, symbol: rest };
}

/**
 * What a program section name means, or undefined for sections that are not programs
 * (`.text`, `.maps`, `license`…) or that no convention recognises.
 */
export function parseSectionName(name: string): ProgramSection | undefined {
  for (const d of SECTIONS) {
    let target: string | undefined;
    if (name === d.name) {
      if (d.match === "always") continue;
      target = d.fixed;
    } else if (d.match !== "exact" && name.startsWith(d.name + "/")) {
      target = name.slice(d.name.length + 1);
      if (target === "") continue;
      if (d.flat && target.includes("/")) continue;
    } else {
      continue;
    }
    const k: { progType: ProgType; expectedAttachType?: AttachType; display: string } =
      KINDS[d.kind];
    const section: ProgramSection = {
      kind: d.kind,
      progType: k.progType,
      displayKind: d.display ?? k.display,
      progFlags: d.flags ?? 0,
      convention: d.convention ?? "libbpf",
    };
    const attach = d.attach ?? k.expectedAttachType;
    if (attach !== undefined) section.expectedAttachType = attach;
    // For RedBPF the rest names the program; only a fixed target means anything.
    const t = d.convention === "redbpf" ? d.fixed : target;
    if (t !== undefined) section.target = t;
    if ((d.kind === "uprobe" || d.kind === "uretprobe") && t !== undefined) {
      const u = parseUprobeTarget(t);
      if (u) section.uprobe = u;
    }
    return section;
  }
  return undefined;
}
