// Attaching programs: one module per hook, each returning a `Link`, and `attachBySection`,
// which reads what a program's ELF section says (xdp, tracepoint/<cat>/<name>,
// uprobe/<binary>:<symbol> …) and attaches it there, or says which option is missing.

import type { ProgramSection } from "../obj/section.js";
import { kindInfo, type KindsAttachedBy } from "../obj/program-kinds.js";
import { AttachType, nameOf } from "../obj/consts.js";
import { attachCgroup } from "./cgroup.js";
import { AttachError } from "./errors.js";
import { attachIter } from "./iter.js";
import { attachPerfEvent, type PerfEventOptions } from "./perf-event.js";
import { attachKprobe } from "./kprobe.js";
import type { AttachableProgram, Link } from "./link.js";
import { attachRawTracepoint } from "./raw-tracepoint.js";
import { attachSocketFilter } from "./socket-filter.js";
import { attachTc, type TcDirection } from "./tc.js";
import { attachTpBtf } from "./tp-btf.js";
import { attachTracepoint } from "./tracepoint.js";
import { attachTracing } from "./tracing.js";
import { attachUprobe } from "./uprobe.js";
import { attachUsdt } from "./usdt.js";
import { attachXdp, type XdpMode } from "./xdp.js";

export { AttachError, FormatError, LinkError } from "./errors.js";
export { CallbackLink, FdLink, type AttachableProgram, type Link } from "./link.js";
export { attachXdp, type XdpMode, type XdpOptions } from "./xdp.js";
export { attachTc, type TcDirection, type TcOptions } from "./tc.js";
export { attachTracepoint, parseTracepointName, type TracepointOptions } from "./tracepoint.js";
export { attachRawTracepoint } from "./raw-tracepoint.js";
export { attachTracing, type TracingKind, type TracingOptions } from "./tracing.js";
export { attachTpBtf, tpBtfTargetId, tpBtfTypeName, TP_BTF_ATTACH_TYPE } from "./tp-btf.js";
export {
  attachUprobe,
  resolveUprobeTarget,
  type UprobeOptions,
  type UprobeTarget,
} from "./uprobe.js";
export { attachUsdt, type UsdtOptions, type UsdtSpecMap } from "./usdt.js";
export { readUsdtNotes, parseUsdtArgs, type UsdtNote } from "./usdt-notes.js";
export { attachKprobe, kprobesUnavailable, type KprobeOptions } from "./kprobe.js";
export { attachSocketFilter } from "./socket-filter.js";
export { attachIter, IterLink } from "./iter.js";
export {
  attachPerfEvent,
  PerfType,
  PerfSoftware,
  PerfHardware,
  type PerfEventOptions,
} from "./perf-event.js";
export { attachCgroup, attachCgroupSkb } from "./cgroup.js";
export { resolveBinaryPath } from "./binary-path.js";
export { ElfBinary, type FunctionSymbol } from "./elf-symbols.js";
export { resolveInterface, type Interface } from "./iface.js";
export { queryXdp, type LinkXdpInfo } from "./rtnetlink.js";

/** What the section name cannot say: where to attach. The CLI's `tsbpf load` flags map here. */
export interface AttachOptions {
  /** XDP / tc: interface name or index (`-i IFACE`) */
  iface?: string | number;
  /** XDP mode */
  mode?: XdpMode;
  /** tc: ingress or egress when the section does not say */
  direction?: TcDirection;
  /** uprobe: binary or library when the section does not name one */
  binary?: string;
  /** uprobe / kprobe: function when the section does not name one */
  symbol?: string;
  /** uprobe: only this process */
  pid?: number;
  /** cgroup programs: cgroup v2 directory */
  cgroup?: string;
  /** tracepoint ("category/name") / raw tracepoint ("name") when the section does not say */
  tracepoint?: string;
  /** socket filters: the socket's fd */
  socket?: number;
  /** USDT programs: the probe (`provider:name`) when the section does not name it */
  usdt?: string;
  /** USDT programs: what `bpf_usdt_cookie(ctx)` returns */
  usdtCookie?: bigint | number;
  /** perf_event programs: the event to sample on each CPU (e.g. `{ sampleFreq: 99 }`) */
  perfEvent?: PerfEventOptions;
}

const label = (section: ProgramSection, prog: AttachableProgram) =>
  `${section.displayKind} program ${prog.name}`;

/**
 * A section that names its function attaches there; a `symbol` option naming another one is
 * an error rather than silently ignored (loader-wide defaults such as `tsbpf load -s` are not
 * passed to such sections: see Loader). The direct attach functions take any target.
 */
function checkNamedTarget(
  prog: AttachableProgram,
  section: ProgramSection,
  named: string | undefined,
  symbol: string | undefined,
  direct: string,
): void {
  if (named === undefined || symbol === undefined || symbol === named) return;
  throw new AttachError(
    `${label(section, prog)} names its function in its section (${named}); the symbol option ` +
      `(${symbol}) would attach it elsewhere: drop the option, or call ${direct}(prog, { symbol: "${symbol}", … }) to attach there`,
  );
}

/** Attach `prog` where its section says; AttachError naming the missing option otherwise. */
export function attachBySection(
  prog: AttachableProgram,
  section: ProgramSection,
  opts: AttachOptions = {},
): Link {
  const need = (what: string, flag: string): never => {
    throw new AttachError(`${label(section, prog)} needs ${what}: pass ${flag}`);
  };
  // Which link/ module attaches a kind is the program-kind table's `attach` (obj/program-kinds.ts).
  const via = kindInfo(section.kind).attach;
  switch (via) {
    case "xdp": {
      if (section.target === "devmap" || section.target === "cpumap")
        throw new AttachError(
          `${label(section, prog)} runs from a ${section.target} entry: store its fd in the map instead of attaching it`,
        );
      const iface = opts.iface ?? need("an interface", "-i IFACE");
      return attachXdp(prog, iface, opts.mode === undefined ? {} : { mode: opts.mode });
    }
    case "tc": {
      const iface = opts.iface ?? need("an interface", "-i IFACE");
      const t = section.target;
      const direction =
        opts.direction ?? (t === "ingress" || t === "egress" ? t : undefined) ?? "ingress";
      return attachTc(prog, iface, { direction });
    }
    case "tracepoint": {
      const tp =
        opts.tracepoint ?? section.target ?? need("a tracepoint", "--tracepoint CATEGORY/NAME");
      return attachTracepoint(prog, tp);
    }
    case "raw_tracepoint": {
      const tp = opts.tracepoint ?? section.target ?? need("a raw tracepoint", "--tracepoint NAME");
      return attachRawTracepoint(prog, tp);
    }
    case "tp_btf":
      return attachTpBtf(prog, section.target);
    case "tracing":
      return attachTracing(prog, {
        // the table's attach "tracing" kinds: fentry, fexit, fmod_ret, lsm
        kind: section.kind as KindsAttachedBy<"tracing">,
        ...(section.target !== undefined && { target: section.target }),
      });
    case "iter":
      return attachIter(prog, section.target);
    case "perf_event":
      return attachPerfEvent(
        prog,
        opts.perfEvent ?? need("a perf event", "--sample-freq HZ (the perfEvent option)"),
      );
    case "kprobe": {
      // A target the section names wins; the option is for sections that name none.
      checkNamedTarget(prog, section, section.target, opts.symbol, "attachKprobe");
      const t = section.target ?? opts.symbol ?? need("a kernel function", "--symbol FUNCTION");
      const m = /^([^+]+)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(t);
      if (!m) throw new AttachError(`bad kprobe target "${t}": expected FUNCTION[+OFFSET]`);
      return attachKprobe(prog, {
        symbol: m[1]!,
        ...(m[2] !== undefined && { offset: Number(m[2]) }),
        retprobe: section.kind === "kretprobe",
      });
    }
    case "ksyscall": {
      checkNamedTarget(prog, section, section.target, opts.symbol, "attachKprobe");
      const t = section.target ?? opts.symbol ?? need("a system call", "--symbol SYSCALL");
      return attachKprobe(prog, {
        symbol: syscallFunction(t),
        retprobe: section.kind === "kretsyscall",
      });
    }
    case "uprobe": {
      const { binary, symbol, offset } = uprobeTarget(prog, section, opts);
      if (symbol === undefined && offset === undefined)
        need("a function", "--symbol FUNCTION (or a section uprobe/<binary>:<symbol>)");
      return attachUprobe(prog, {
        binary,
        ...(symbol !== undefined && { symbol }),
        ...(offset !== undefined && { offset }),
        ...(opts.pid !== undefined && { pid: opts.pid }),
        retprobe: section.kind === "uretprobe",
      });
    }
    case "usdt": {
      const t = usdtTarget(prog, section, opts);
      return attachUsdt(prog, prog.usdtSpecs, {
        ...t,
        ...(opts.pid !== undefined && { pid: opts.pid }),
        ...(opts.usdtCookie !== undefined && { cookie: opts.usdtCookie }),
      });
    }
    case "socket_filter": {
      const socket =
        opts.socket ??
        need(
          "a socket",
          "the socket's fd as { socket: fd } to attach(), or call attachSocketFilter(prog, fd) (`tsbpf load` cannot attach socket filters: it has no socket)",
        );
      return attachSocketFilter(prog, socket);
    }
    case "cgroup": {
      const cgroup = opts.cgroup ?? need("a cgroup", "--cgroup PATH (a cgroup v2 directory)");
      let type = section.expectedAttachType;
      if (type === undefined && section.kind === "cgroup_skb") {
        const d = opts.direction;
        if (d === undefined)
          need("a direction", '--direction ingress|egress (or use SEC("cgroup_skb/ingress"))');
        type = d === "ingress" ? AttachType.CGROUP_INET_INGRESS : AttachType.CGROUP_INET_EGRESS;
      }
      if (type === undefined)
        throw new AttachError(`${label(section, prog)}: the section names no cgroup hook`);
      return attachCgroup(prog, cgroup, type);
    }
    case undefined:
      throw new AttachError(
        `${label(section, prog)}: attaching ${section.kind} programs is not supported by tsbpf yet` +
          (section.expectedAttachType !== undefined
            ? ` (attach type ${nameOf(AttachType, section.expectedAttachType)})`
            : ""),
      );
  }
}

/** The binary a section names as `/proc/self/exe`: the loading process, which is node here. */
export const SELF_EXE = "/proc/self/exe";

/**
 * Where a uprobe section attaches. What the section names wins: `uprobe/<binary>:<symbol>`
 * attaches to that symbol (an `opts.symbol` naming another is an error), and the options fill
 * in only what the section leaves out (a bare `SEC("uprobe")`, or `uprobe/<binary>:` without a function).
 * `/proc/self/exe` means "the loading program" in libbpf; under tsbpf that process is node,
 * so such a section takes its executable from `opts.binary` and is an error without one.
 */
export function uprobeTarget(
  prog: AttachableProgram,
  section: ProgramSection,
  opts: AttachOptions,
): { binary: string; symbol?: string; offset?: number } {
  const u = section.uprobe;
  let binary = u?.binary;
  if (binary === SELF_EXE) {
    if (opts.binary === undefined)
      throw new AttachError(
        `${label(section, prog)} (section ${section.kind}/${section.target}) probes ${SELF_EXE}, ` +
          `the program that loads it; under tsbpf that is node, so say which executable: pass --binary PATH`,
      );
    binary = opts.binary;
  }
  binary ??= opts.binary;
  if (binary === undefined)
    throw new AttachError(`${label(section, prog)} needs a binary: pass --binary PATH`);
  const named = u?.symbol !== undefined || u?.offset !== undefined;
  if (named)
    checkNamedTarget(
      prog,
      section,
      u?.symbol ?? `offset ${u?.offset}`,
      opts.symbol,
      "attachUprobe",
    );
  const symbol = named ? u?.symbol : opts.symbol;
  const offset = u?.offset;
  if (symbol === undefined && offset === undefined)
    throw new AttachError(
      `${label(section, prog)} needs a function: pass --symbol FUNCTION (or a section uprobe/<binary>:<symbol>)`,
    );
  return {
    binary,
    ...(symbol !== undefined && { symbol }),
    ...(offset !== undefined && { offset }),
  };
}

/**
 * Where a USDT section attaches: `usdt/<binary>:<provider>:<name>` (libbpf's form) names all
 * three; a bare `SEC("usdt")` takes them from the options (`binary`, `usdt: "provider:name"`).
 * Options that contradict the section are errors, as for uprobes.
 */
export function usdtTarget(
  prog: AttachableProgram,
  section: ProgramSection,
  opts: AttachOptions,
): { binary: string; provider: string; name: string } {
  let binary = opts.binary;
  let probe = opts.usdt;
  const t = section.target;
  if (t !== undefined) {
    const m = /^(.+):([^:]+):([^:]+)$/.exec(t);
    if (!m)
      throw new AttachError(
        `${label(section, prog)}: section usdt/${t} is not usdt/<binary>:<provider>:<name>`,
      );
    const named = `${m[2]}:${m[3]}`;
    if (probe !== undefined && probe !== named)
      throw new AttachError(
        `${label(section, prog)} names its probe in its section (${named}); the usdt option (${probe}) would attach it elsewhere: drop the option, or call attachUsdt to attach there`,
      );
    probe = named;
    binary = m[1] === SELF_EXE ? binary : m[1];
  }
  if (binary === undefined)
    throw new AttachError(`${label(section, prog)} needs a binary: pass --binary PATH`);
  if (probe === undefined)
    throw new AttachError(
      `${label(section, prog)} needs a USDT probe: pass --usdt PROVIDER:NAME (the usdt option), or name it in the section usdt/<binary>:<provider>:<name>`,
    );
  const p = /^([^:]+):([^:]+)$/.exec(probe);
  if (!p) throw new AttachError(`bad USDT probe "${probe}": expected PROVIDER:NAME`);
  return { binary, provider: p[1]!, name: p[2]! };
}

/**
 * Whether a section names the function it probes (uprobe/kprobe/ksyscall), so that loader-wide
 * `symbol`/`binary` options do not apply to it.
 */
export function sectionNamesProbeTarget(section: ProgramSection): boolean {
  switch (section.kind) {
    case "uprobe":
    case "uretprobe":
      return section.uprobe?.symbol !== undefined || section.uprobe?.offset !== undefined;
    case "kprobe":
    case "kretprobe":
    case "ksyscall":
    case "kretsyscall":
    case "usdt":
      return section.target !== undefined;
    default:
      return false;
  }
}

/** The kernel function behind a system call on this architecture ("openat" → "__x64_sys_openat"). */
export function syscallFunction(name: string): string {
  const prefix = {
    x64: "__x64_sys_",
    arm64: "__arm64_sys_",
    s390x: "__s390x_sys_",
    riscv64: "__riscv_sys_",
  }[process.arch as string];
  return `${prefix ?? "sys_"}${name}`;
}
