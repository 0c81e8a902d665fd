// Kernel errors as values a person can act on: the syscall (or bpf command), the errno name
// and text, and a hint about the usual cause.
import { constants } from "node:os";
import { native } from "./native.js";
import { Cap, capName, effectiveCaps, missingCaps } from "./caps.js";
import { ProgType, nameOf } from "../obj/consts.js";
import { TsbpfError } from "../errors.js";

/** Linux errno values the hints and callers refer to. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  ELOOP: 40,
  EOPNOTSUPP: 95,
  ENOTSUPP: 524,
} as const;

// Fallback for libcs without strerrorname_np, and for kernel-internal values (ENOTSUPP).
const FALLBACK: Record<number, [string, string]> = {
  1: ["EPERM", "Operation not permitted"],
  2: ["ENOENT", "No such file or directory"],
  3: ["ESRCH", "No such process"],
  4: ["EINTR", "Interrupted system call"],
  7: ["E2BIG", "Argument list too long"],
  9: ["EBADF", "Bad file descriptor"],
  11: ["EAGAIN", "Resource temporarily unavailable"],
  12: ["ENOMEM", "Cannot allocate memory"],
  13: ["EACCES", "Permission denied"],
  14: ["EFAULT", "Bad address"],
  16: ["EBUSY", "Device or resource busy"],
  17: ["EEXIST", "File exists"],
  19: ["ENODEV", "No such device"],
  22: ["EINVAL", "Invalid argument"],
  28: ["ENOSPC", "No space left on device"],
  38: ["ENOSYS", "Function not implemented"],
  95: ["EOPNOTSUPP", "Operation not supported"],
  524: ["ENOTSUPP", "Operation not supported (kernel-internal ENOTSUPP)"],
};

function nativeOrNull(): ReturnType<typeof native> | null {
  try {
    return native();
  } catch {
    return null;
  }
}

/** Node's errno names by number (first name wins: EAGAIN before EWOULDBLOCK). */
let osNames: Map<number, string> | undefined;
function osErrnoName(errno: number): string | undefined {
  if (osNames === undefined) {
    osNames = new Map();
    for (const [name, n] of Object.entries(constants.errno))
      if (!osNames.has(n)) osNames.set(n, name);
  }
  return osNames.get(errno);
}

/** "EPERM" for 1; `E<n>` when the number is unknown. */
export function errnoName(errno: number): string {
  return (
    FALLBACK[errno]?.[0] ?? nativeOrNull()?.errnoName(errno) ?? osErrnoName(errno) ?? `E${errno}`
  );
}

/** The C library's description of an errno. */
export function errnoMessage(errno: number): string {
  return FALLBACK[errno]?.[1] ?? nativeOrNull()?.strerror(errno) ?? `errno ${errno}`;
}

/** Program types the kernel loads only with CAP_NET_ADMIN (is_net_admin_prog_type). */
const NET_ADMIN_TYPES: ReadonlySet<number> = new Set([
  ProgType.SCHED_CLS,
  ProgType.SCHED_ACT,
  ProgType.XDP,
  ProgType.LWT_IN,
  ProgType.LWT_OUT,
  ProgType.LWT_XMIT,
  ProgType.LWT_SEG6LOCAL,
  ProgType.SK_SKB,
  ProgType.SK_MSG,
  ProgType.FLOW_DISSECTOR,
  ProgType.CGROUP_DEVICE,
  ProgType.CGROUP_SOCK,
  ProgType.CGROUP_SOCK_ADDR,
  ProgType.CGROUP_SOCKOPT,
  ProgType.CGROUP_SYSCTL,
  ProgType.SOCK_OPS,
]);

/** Program types the kernel loads only with CAP_PERFMON (is_perfmon_prog_type). */
const PERFMON_TYPES: ReadonlySet<number> = new Set([
  ProgType.KPROBE,
  ProgType.TRACEPOINT,
  ProgType.PERF_EVENT,
  ProgType.RAW_TRACEPOINT,
  ProgType.RAW_TRACEPOINT_WRITABLE,
  ProgType.TRACING,
  ProgType.LSM,
  ProgType.STRUCT_OPS,
]);

/** The capabilities a syscall needs, and what it is called in the hint. */
function capsFor(syscall: string, progType?: number): { needs: Cap[]; what: string } | undefined {
  if (syscall === "BPF_PROG_LOAD") {
    const needs: Cap[] = [Cap.BPF];
    if (progType !== undefined && PERFMON_TYPES.has(progType)) needs.push(Cap.PERFMON);
    if (progType !== undefined && NET_ADMIN_TYPES.has(progType)) needs.push(Cap.NET_ADMIN);
    const kind = progType === undefined ? "" : `${nameOf(ProgType, progType)} `;
    return { needs, what: `loading a ${kind}program` };
  }
  if (syscall.startsWith("BPF_")) return { needs: [Cap.BPF], what: syscall };
  if (syscall === "perf_event_open") return { needs: [Cap.PERFMON], what: "perf_event_open" };
  if (syscall.startsWith("RTM_")) return { needs: [Cap.NET_ADMIN], what: syscall };
  if (syscall === "tracefs")
    return { needs: [Cap.DAC_READ_SEARCH], what: "reading tracepoint ids from root's tracefs" };
  return undefined;
}

/**
 * For a permission error: the capabilities the call needs that this process lacks, and what
 * to do about it; undefined when it lacks none (or cannot tell), so the cause is elsewhere.
 */
export function capabilityHint(syscall: string, progType?: number): string | undefined {
  const need = capsFor(syscall, progType);
  if (!need) return undefined;
  const missing = missingCaps(need.needs);
  if (missing.length === 0) return undefined;
  const all = need.needs.map(capName).join(" + ");
  return (
    `${need.what} needs ${all}, and this process lacks ${missing.join(", ")}: run it as root ` +
    `(sudo), or grant ${missing.length > 1 ? "them" : "it"} (setpriv/capsh --ambient-caps, ` +
    `or docker run --cap-add; see docs/running.md#capabilities)`
  );
}

/**
 * Whether this process is known to hold every capability the call needs (false when it lacks
 * one or its capabilities cannot be read). perf_event_open also depends on
 * perf_event_paranoid, so it is never called privileged here.
 */
function privileged(syscall: string, progType?: number): boolean {
  const need = capsFor(syscall, progType);
  if (!need || syscall === "perf_event_open" || effectiveCaps() === undefined) return false;
  return missingCaps(need.needs).length === 0;
}

/**
 * Everything loading and attaching programs of these types needs, as one line, when this
 * process lacks some of it — so a user fixing the first refusal does not meet the next one.
 * `tracefsReadable`: whether this process may read tracepoint ids (for `tracepoint/…`).
 */
export function objectCapabilityHint(
  progTypes: readonly number[],
  tracefsReadable: boolean,
): string | undefined {
  const needs: [Cap, string][] = [
    [Cap.BPF, ""],
    [Cap.PERFMON, ""],
  ];
  const net = [...new Set(progTypes.filter((t) => NET_ADMIN_TYPES.has(t)))];
  if (net.length > 0)
    needs.push([Cap.NET_ADMIN, ` (${net.map((t) => nameOf(ProgType, t)).join(", ")})`]);
  if (progTypes.includes(ProgType.TRACEPOINT) && !tracefsReadable)
    needs.push([Cap.DAC_READ_SEARCH, " (tracepoint ids in root's tracefs)"]);
  const missing = missingCaps(needs.map(([c]) => c));
  if (missing.length === 0) return undefined;
  const all = needs.map(([c, why]) => capName(c) + why).join(" + ");
  return `loading this object needs ${all}; this process lacks ${missing.join(", ")}`;
}

/** The usual cause of an errno for a given syscall / bpf command, when one is worth saying. */
export function hintFor(syscall: string, errno: number, progType?: number): string | undefined {
  const bpf = syscall.startsWith("BPF_");
  switch (errno) {
    case Errno.EPERM:
      if (privileged(syscall, progType))
        // Saying "needs root" to root is false: the refusal has another cause.
        return syscall === "BPF_PROG_LOAD"
          ? "this process has the capabilities loading it needs, so the kernel refused it for another reason: fentry/fexit/kprobe/LSM programs fail this way when the kernel cannot attach to that function (ftrace or kprobes unavailable, lockdown)"
          : `this process has the capabilities ${syscall} needs, so the kernel refused it for another reason: kernel lockdown, or a feature this kernel restricts (e.g. a map type or flag it does not allow here)`;
      if (syscall === "perf_event_open")
        return (
          capabilityHint(syscall) ??
          "needs root or CAP_PERFMON (check /proc/sys/kernel/perf_event_paranoid)"
        );
      if (syscall === "BPF_PROG_LOAD")
        return (
          capabilityHint(syscall, progType) ??
          "needs root or CAP_BPF+CAP_PERFMON (networking programs also CAP_NET_ADMIN); on kernels before 5.11 also raise RLIMIT_MEMLOCK; fentry/fexit/kprobe programs fail this way when the kernel cannot attach to that function"
        );
      return (
        capabilityHint(syscall) ??
        (bpf
          ? "needs root or CAP_BPF (+CAP_NET_ADMIN for networking); on kernels before 5.11 raise RLIMIT_MEMLOCK"
          : "needs root or the matching capability")
      );
    case Errno.EACCES:
      if (syscall === "BPF_PROG_LOAD")
        return "the verifier rejected the program: read the verifier log";
      return (
        capabilityHint(syscall) ??
        "permission denied: check capabilities and file permissions (pins are files on bpffs)"
      );
    case Errno.EINVAL:
      if (syscall === "BPF_PROG_LOAD")
        return "often a program type, attach type or flag this kernel does not support, or a malformed instruction; read the verifier log";
      return bpf
        ? "often a type, attach type or flag this kernel does not support, or a size that does not match the object"
        : "invalid argument: a flag or value this kernel does not accept";
    case Errno.E2BIG:
      return "a size is larger than this kernel accepts (attr with non-zero tail bytes, too many entries or instructions)";
    case Errno.ENOENT:
      if (syscall === "BPF_OBJ_GET") return "nothing is pinned at that path";
      if (syscall === "perf_event_open" || syscall.startsWith("tracefs"))
        return "no such tracepoint / probe target on this kernel";
      if (bpf) return "no such element, id or object";
      return "no such file, tracepoint or pin";
    case Errno.EOPNOTSUPP:
    case Errno.ENOTSUPP:
      return "this kernel or device does not support the operation (try another attach mode or a newer kernel)";
    case Errno.ENOSPC:
      return syscall === "BPF_PROG_LOAD" || syscall === "BPF_BTF_LOAD"
        ? "the verifier log did not fit its buffer"
        : "the map is full (max_entries reached)";
    case Errno.EEXIST:
      return syscall === "BPF_OBJ_PIN"
        ? "something is already pinned at that path: unpin it first"
        : "already exists / already attached (XDP: detach the existing program or use replace/update flags)";
    case Errno.EBUSY:
      return "busy: another program or link is already attached here";
    case Errno.EBADF:
      return "a file descriptor is closed or of the wrong kind";
    case Errno.ENODEV:
      return "no such device or interface";
    case Errno.ENOSYS:
      return "this kernel lacks the syscall (CONFIG_BPF_SYSCALL / CONFIG_PERF_EVENTS)";
    case Errno.ENOMEM:
      return "the kernel could not allocate memory (large maps need memory cgroup room)";
    default:
      return undefined;
  }
}

export interface SysErrorOptions {
  /** What the call was about, e.g. `map "events"` or a path. */
  subject?: string;
  /** Overrides the default hint. */
  hint?: string;
  /** Extra text such as a verifier log, kept on the error and not in the message. */
  log?: string;
  /** BPF_PROG_LOAD: the program type, so a permission hint names the capability it needs. */
  progType?: number;
}

/** A failed syscall: names the call, errno and the likely cause. */
export class SysError extends TsbpfError {
  override readonly name = "SysError";
  readonly syscall: string;
  readonly errno: number;
  /** "EPERM" */
  readonly code: string;
  readonly hint: string | undefined;
  readonly subject: string | undefined;
  readonly log: string | undefined;

  constructor(syscall: string, errno: number, options: SysErrorOptions = {}) {
    const code = errnoName(errno);
    const hint = options.hint ?? hintFor(syscall, errno, options.progType);
    const what = options.subject === undefined ? syscall : `${syscall} (${options.subject})`;
    super(
      `${what} failed: ${code} (${errnoMessage(errno)})${hint === undefined ? "" : ` — ${hint}`}`,
    );
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
    this.hint = hint;
    this.subject = options.subject;
    this.log = options.log;
  }
}

/** Returns a non-negative syscall result, or throws the SysError for `-errno`. */
export function check(syscall: string, result: number, options?: SysErrorOptions): number {
  if (result < 0) throw new SysError(syscall, -result, options);
  return result;
}
