// Values for `.kconfig` externs, as libbpf computes them (bpf_object__resolve_externs):
// LINUX_KERNEL_VERSION from the release, LINUX_HAS_BPF_COOKIE / LINUX_HAS_SYSCALL_WRAPPER
// from the running kernel, CONFIG_* from the kernel's config (/boot/config-$(uname -r), then
// /proc/config.gz, or a file the caller names). y/n/m set bool, tristate and char externs,
// numbers set integers, "quoted" strings char arrays. A weak extern without a value is 0; a
// strong one is an error naming it.
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import type { KconfigExtern, KconfigLayout, KsymExtern } from "../obj/kconfig.js";
import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, LDDW, type Insn } from "../obj/insn.js";
import { kernelBtfTypeId, moduleBtfTypeId } from "./kernel-btf.js";
import type { ModuleBtfFds } from "./module-btf.js";
import { ProgType } from "../obj/consts.js";
import { progLoad } from "../sys/bpf.js";
import { encodeInsns } from "../obj/insn.js";
import { openKprobe } from "../sys/perf-event.js";
import { TsbpfError } from "../errors.js";

export interface KconfigSources {
  /** a kernel config file (plain or gzip) instead of the system's */
  kconfigPath?: string;
  /** Kconfig lines (`CONFIG_X=y`) that win over the file; externs they set need no file */
  kconfig?: string;
}

const KSYM_NEEDS_BTF =
  "__ksym externs with a type and kfunc calls need it (a `const void` __ksym takes its address from /proc/kallsyms instead)";

export class KconfigError extends TsbpfError {
  override name = "KconfigError";
}

/** KERNEL_VERSION(a, b, c) of a release string like "6.18.44-fc" (patch capped at 255). */
export function kernelVersionCode(rel: string): number {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  if (!m) throw new KconfigError(`cannot read a kernel version from release "${rel}"`);
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

/** The running kernel's version code; Ubuntu's /proc/version_signature first, as in libbpf. */
function runningKernelVersion(): number {
  try {
    const sig = readFileSync("/proc/version_signature", "utf8");
    const m = /^\S+ \S+ (\d+\.\d+\.\d+)/.exec(sig);
    if (m) return kernelVersionCode(m[1]!);
  } catch {
    // not Ubuntu
  }
  return kernelVersionCode(release());
}

/** Parses Kconfig text into name → raw value; "# CONFIG_X is not set" leaves X unset. */
export function parseKconfigText(text: string, where: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line.startsWith("CONFIG_")) return;
    const eq = line.indexOf("=");
    if (eq < 0) throw new KconfigError(`${where}:${i + 1}: expected CONFIG_NAME=VALUE: ${line}`);
    out.set(line.slice(0, eq), line.slice(eq + 1));
  });
  return out;
}

function readConfigFile(path: string): string {
  const bytes = readFileSync(path);
  const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return (gz ? gunzipSync(bytes) : bytes).toString("utf8");
}

function systemConfig(explicit: string | undefined): { text: string; path: string } {
  const paths =
    explicit !== undefined ? [explicit] : [`/boot/config-${release()}`, "/proc/config.gz"];
  for (const path of paths) {
    try {
      return { text: readConfigFile(path), path };
    } catch (e) {
      if (explicit !== undefined)
        throw new KconfigError(`cannot read kernel config ${path}: ${(e as Error).message}`, {
          cause: e,
        });
    }
  }
  throw new KconfigError(
    `the object has CONFIG_* __kconfig externs but this kernel's config is in neither ${paths.join(" nor ")}: ` +
      `pass a config file (kconfigPath option, --kconfig FILE)`,
  );
}

let cookieSupport: boolean | undefined;
/** Whether bpf_get_attach_cookie (helper 174) is allowed in a kprobe program here. */
function hasBpfCookie(): boolean {
  if (cookieSupport !== undefined) return cookieSupport;
  // call bpf_get_attach_cookie; r0 = 0; exit
  const insns = [
    { code: 0x85, dst: 0, src: 0, off: 0, imm: 174 },
    { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
    { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
  ];
  try {
    progLoad({
      type: ProgType.KPROBE,
      insns: encodeInsns(insns),
      license: "GPL",
      name: "probe_cookie",
    }).fd.close();
    cookieSupport = true;
  } catch {
    cookieSupport = false;
  }
  return cookieSupport;
}

/**
 * LINUX_HAS_SYSCALL_WRAPPER as libbpf computes it: whether a kprobe on the arch's wrapped
 * `__<arch>_sys_bpf` opens. Where kprobes are unavailable that is false, as in libbpf (the
 * value only matters to BPF_KSYSCALL programs, which attach as kprobes).
 */
function hasSyscallWrapper(): boolean {
  const prefix = { x64: "x64", arm64: "arm64", s390x: "s390x", riscv64: "riscv" }[
    process.arch as string
  ];
  if (prefix === undefined) return false;
  try {
    openKprobe({ symbol: `__${prefix}_sys_bpf` }).close();
    return true;
  } catch {
    return false;
  }
}

function setValue(e: KconfigExtern, data: DataView, raw: string, from: string): void {
  const bad = (why: string): never => {
    throw new KconfigError(
      `extern ${e.name} __kconfig (${e.kind}): ${why} (value ${raw} from ${from})`,
    );
  };
  if (raw === "y" || raw === "n" || raw === "m") {
    switch (e.kind) {
      case "bool":
        if (raw === "m") bad("'m' needs a tristate or char extern, not bool");
        data.setUint8(e.offset, raw === "y" ? 1 : 0);
        return;
      case "tristate":
        data.setUint32(e.offset, raw === "y" ? 1 : raw === "m" ? 2 : 0, true);
        return;
      case "char":
        data.setUint8(e.offset, raw.charCodeAt(0));
        return;
      default:
        return bad(`'${raw}' needs a bool, tristate or char extern`);
    }
  }
  if (raw.startsWith('"')) {
    if (e.kind !== "string") return bad("a string needs a char array extern");
    if (raw.length < 2 || !raw.endsWith('"')) return bad("unterminated string");
    const bytes = Buffer.from(raw.slice(1, -1), "utf8");
    // Cut to fit with the terminating NUL, as libbpf does.
    const n = Math.min(bytes.length, e.size - 1);
    for (let i = 0; i < n; i++) data.setUint8(e.offset + i, bytes[i]!);
    return;
  }
  if (e.kind !== "int" && e.kind !== "char" && e.kind !== "bool")
    return bad("a number needs an integer, char or bool extern");
  // Decimal or hex only (BigInt would also take 0b/0o and empty text).
  if (!/^(-?\d+|0[xX][0-9a-fA-F]+)$/.test(raw))
    return bad("not y/n/m, a number or a quoted string");
  let v = BigInt(raw);
  if (e.kind === "bool") v = v !== 0n ? 1n : 0n;
  const bits = BigInt(e.size * 8);
  // libbpf's range check: the value must fit the extern's size (signed or not).
  const fits = e.signed
    ? v >= -(1n << (bits - 1n)) && v < 1n << (bits - 1n)
    : v >= 0n && v < 1n << bits;
  if (!fits) bad(`does not fit in ${e.size} byte(s)`);
  const u = BigInt.asUintN(Number(bits), v);
  for (let i = 0; i < e.size; i++)
    data.setUint8(e.offset + i, Number((u >> BigInt(8 * i)) & 0xffn));
}

/** The bytes of the `.kconfig` map for this layout. */
export function kconfigData(layout: KconfigLayout, src: KconfigSources = {}): Uint8Array {
  const data = new Uint8Array(layout.size);
  const dv = new DataView(data.buffer);
  const set = new Set<string>();
  const given =
    src.kconfig !== undefined ? parseKconfigText(src.kconfig, "the kconfig option") : undefined;
  for (const e of layout.externs) {
    if (e.name === "LINUX_KERNEL_VERSION") {
      setValue(e, dv, String(runningKernelVersion()), "the kernel release");
    } else if (e.name === "LINUX_HAS_BPF_COOKIE") {
      setValue(e, dv, hasBpfCookie() ? "1" : "0", "a probe of the kernel");
    } else if (e.name === "LINUX_HAS_SYSCALL_WRAPPER") {
      setValue(e, dv, hasSyscallWrapper() ? "1" : "0", "a kprobe probe");
    } else if (e.name.startsWith("LINUX_")) {
      throw new KconfigError(
        `extern ${e.name} __kconfig: unknown LINUX_ extern (libbpf defines LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER)`,
      );
    } else if (!e.name.startsWith("CONFIG_")) {
      throw new KconfigError(
        `extern ${e.name} __kconfig: a __kconfig extern is named CONFIG_* or LINUX_*`,
      );
    } else if (given?.has(e.name)) {
      setValue(e, dv, given.get(e.name)!, "the kconfig option");
    } else continue;
    set.add(e.name);
  }
  const rest = layout.externs.filter((e) => !set.has(e.name));
  if (rest.length > 0) {
    const { text, path } = systemConfig(src.kconfigPath);
    const values = parseKconfigText(text, path);
    for (const e of rest) {
      const v = values.get(e.name);
      if (v !== undefined) {
        setValue(e, dv, v, path);
        set.add(e.name);
      } else if (!e.weak) {
        throw new KconfigError(
          `extern ${e.name} __kconfig has no value in ${path} (the kernel does not set it): declare it __weak to read 0, or set it with the kconfig option`,
        );
      }
    }
  }
  return data;
}

// ---------------------------------------------------------------- __ksym externs

let kallsyms: Map<string, bigint> | undefined;
/** /proc/kallsyms, name → address (the first of equal names), read once per process. */
function kallsymsAddress(name: string): bigint | undefined {
  if (!kallsyms) {
    let text: string;
    try {
      text = readFileSync("/proc/kallsyms", "utf8");
    } catch (e) {
      throw new KconfigError(
        `extern ${name} __ksym needs /proc/kallsyms, which cannot be read: ${(e as Error).message}`,
        { cause: e },
      );
    }
    kallsyms = new Map();
    for (const line of text.split("\n")) {
      const [addr, , sym] = line.split(/\s+/);
      if (sym && addr && !kallsyms.has(sym)) kallsyms.set(sym, BigInt(`0x${addr}`));
    }
  }
  return kallsyms.get(name);
}

/**
 * Patches one `__ksym` reference as libbpf does: a typeless variable's lddw gets its
 * /proc/kallsyms address; a typed one `src_reg = BPF_PSEUDO_BTF_ID` and the kernel VAR's BTF
 * id; a kfunc call `src_reg = BPF_PSEUDO_KFUNC_CALL` and the kernel FUNC's BTF id. vmlinux BTF
 * is searched first, then the loaded modules' BTF: a module's kfunc call gets `off` = the
 * module BTF's index in the program's fd_array (`modules`), a module variable's lddw the
 * module BTF fd in its second half.
 */
export function resolveKsym(
  spec: { name: string },
  object: { ksyms?: KsymExtern[] },
  insns: Insn[],
  at: number,
  name: string,
  modules?: ModuleBtfFds,
): void {
  const ext = object.ksyms?.find((e) => e.name === name);
  const insn = insns[at]!;
  const fail = (why: string): never => {
    throw new KconfigError(`program ${spec.name}: extern ${name} __ksym: ${why}`);
  };
  if (!ext) return fail("not in the object's .ksyms BTF");
  const find = (kind: "func" | "var"): { id: number; btfFd: number; index: number } | undefined => {
    const id = kernelBtfTypeId(name, kind, KSYM_NEEDS_BTF);
    if (id !== undefined) return { id, btfFd: 0, index: 0 };
    const mod = moduleBtfTypeId(name, kind);
    if (!mod) return undefined;
    if (!modules) return fail(`it is in module ${mod.module}, whose BTF this load cannot pass`);
    const { fd, index } = modules.get(mod.module, fail);
    return { id: mod.id, btfFd: fd, index };
  };
  if (ext.kind === "func" && insn.code === LDDW) {
    // bpf_ksym_exists(kfunc): the FUNC's BTF id, or 0 for a weak one the kernel lacks.
    const hit = find("func");
    if (hit === undefined && !ext.weak)
      return fail("neither the kernel's BTF (vmlinux) nor a loaded module's has such a function");
    insn.src = hit === undefined ? 0 : BPF_PSEUDO_BTF_ID;
    insn.imm = hit?.id ?? 0;
    insns[at + 1]!.imm = hit?.btfFd ?? 0;
    return;
  }
  if (ext.kind === "func") {
    const hit = find("func");
    if (hit === undefined)
      return fail(
        "neither the kernel's BTF (vmlinux) nor a loaded module's has such a function (load its module first, e.g. modprobe)",
      );
    insn.src = BPF_PSEUDO_KFUNC_CALL;
    insn.imm = hit.id;
    insn.off = hit.index;
    return;
  }
  const hi = insns[at + 1]!;
  if (ext.typeless) {
    const addr = kallsymsAddress(name);
    if (addr === undefined && !ext.weak)
      return fail("not in /proc/kallsyms (declare it __weak to read 0)");
    const a = addr ?? 0n;
    insn.src = 0;
    insn.imm = Number(BigInt.asIntN(32, a & 0xffffffffn));
    hi.imm = Number(BigInt.asIntN(32, a >> 32n));
    return;
  }
  const hit = find("var");
  if (hit === undefined) {
    if (ext.weak) {
      insn.src = 0;
      insn.imm = 0;
      hi.imm = 0;
      return;
    }
    return fail(
      "the kernel's BTF has no such variable (it describes per-CPU variables only; declare it `const void` to take its kallsyms address)",
    );
  }
  insn.src = BPF_PSEUDO_BTF_ID;
  insn.imm = hit.id;
  hi.imm = hit.btfFd;
}
