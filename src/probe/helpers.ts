// BPF helper calls (each declaration is one helper). Lowered by
// src/compiler/lower/intrinsics.ts (probeFunction), which picks the helper id.
import { kernelOnly, unused } from "./kernel-only.js";
import type { TcAction, XdpAction } from "./actions.js";

// Helpers (each is one BPF helper call)

/** `bpf_get_current_pid_tgid`: tgid << 32 | pid */
export function pidTgid(): bigint {
  return kernelOnly();
}
/** `bpf_get_current_uid_gid`: gid << 32 | uid */
export function uidGid(): bigint {
  return kernelOnly();
}
export function ktimeGetNs(): bigint {
  return kernelOnly();
}
export function ktimeGetBootNs(): bigint {
  return kernelOnly();
}
export function prandom(): number {
  return kernelOnly();
}
export function smpProcessorId(): number {
  return kernelOnly();
}
/** `bpf_get_current_cgroup_id` */
export function cgroupId(): bigint {
  return kernelOnly();
}
/** `bpf_get_current_comm` into a `array(u8, 16)` field of a struct held on the stack */
export function comm(into: ArrayLike<number>): number {
  void into;
  return kernelOnly();
}
/** `bpf_probe_read_user` / `_kernel` / `_user_str` / `_kernel_str` into an array field */
export function probeReadUser(into: ArrayLike<number>, src: bigint): number {
  unused(into, src);
  return kernelOnly();
}
export function probeReadKernel(into: ArrayLike<number>, src: bigint): number {
  unused(into, src);
  return kernelOnly();
}
export function probeReadUserStr(into: ArrayLike<number>, src: bigint): number {
  unused(into, src);
  return kernelOnly();
}
export function probeReadKernelStr(into: ArrayLike<number>, src: bigint): number {
  unused(into, src);
  return kernelOnly();
}
/** `bpf_trace_printk`: a literal format and up to three integer arguments */
export function tracePrintk(format: string, ...args: (number | bigint)[]): number {
  unused(format, args);
  return kernelOnly();
}
/**
 * `bpf_redirect(ifindex, flags)`: the program's verdict, `XdpAction.Redirect` /
 * `TcAction.Redirect` (or `Aborted` / `Shot` for bad flags). Its type is the action type the
 * result is used as, so `return redirect(ifindex)` needs no cast in an xdp or a tc program;
 * the compiler rejects the other program's action type.
 */
export function redirect<A extends XdpAction | TcAction = XdpAction | TcAction>(
  ifindex: number,
  flags?: number,
): A {
  unused(ifindex, flags);
  return kernelOnly();
}
/**
 * Any helper by id (at most five arguments): integers, or pointers — a struct local, a map
 * value or one of its fields (an array field is its first byte), a packet header view
 * (pointing at the header) or `ctx`. A helper that changes packet data (`skb_store_bytes`,
 * `xdp_adjust_head`, …) invalidates every header view, as the named methods do.
 */
export function helper(id: number, ...args: (number | bigint | boolean | object)[]): bigint {
  unused(id, args);
  return kernelOnly();
}

/**
 * Incremental Internet checksum update (RFC 1624): the checksum `check` of data in which the
 * 16-bit (`size` 2) or 32-bit (`size` 4) field `from` became `to`, all host-order numbers.
 * Plain arithmetic, no helper: works in every program kind.
 * `ip.checksum = csumReplace(ip.checksum, oldTtlProto, newTtlProto)`.
 */
export function csumReplace(check: number, from: number, to: number, size?: 2 | 4): number {
  unused(check, from, to, size);
  return kernelOnly();
}

/**
 * `bpf_csum_diff(from, from.length, to, to.length, seed)`: the 32-bit one's-complement sum of
 * `to` minus that of `from` plus `seed` (xdp and tc). `from`/`to` are array fields, struct
 * locals or header views (`null` for none); fold it with `csumFold`.
 */
export function csumDiff(from: object | null, to: object | null, seed?: number): number {
  unused(from, to, seed);
  return kernelOnly();
}

/** Folds a 32-bit one's-complement sum to the 16-bit checksum (`~sum` folded, host order). */
export function csumFold(sum: number): number {
  void sum;
  return kernelOnly();
}

/** Atomically adds `by` to a numeric field of a map value (`lock xadd`). */
export function atomicAdd<T, K extends keyof T>(target: T, field: K, by: number | bigint): void {
  unused(target, field, by);
  kernelOnly();
}

/** Converts a 64-bit value to number / bigint in probe code (no runtime cost). */
export function toNumber(value: number | bigint): number {
  void value;
  return kernelOnly();
}
export function toBigInt(value: number | bigint): bigint {
  void value;
  return kernelOnly();
}
