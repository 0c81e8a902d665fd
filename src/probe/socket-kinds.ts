// More program kinds: perf_event (CPU sampling), lsm (BPF LSM hooks), sockops (TCP socket
// events of a cgroup), sk_skb and sk_msg (stream parser/verdict and message verdict of the
// sockets in a SockMap/SockHash), and those two maps. The kinds are rows of
// src/obj/program-kinds.ts; src/compiler/module/scan.ts gives each its ELF section; context
// fields are read by the table (lower/lowerer.ts ctxMember), the map methods are lowered by
// src/compiler/lower/sock-maps.ts; src/link/sockmap.ts attaches sk_skb/sk_msg to a map.
import type { Infer, Type } from "../types/type.js";
import { kernelOnly, unused } from "./kernel-only.js";
import type { RawTracepointContext, Registers } from "./context.js";
import type { MapOptions } from "./maps.js";
import type { ProgramDecl } from "./programs.js";
import type { SkAction } from "./actions.js";

// ------------------------------------------------------------------------------- contexts

/**
 * `struct bpf_perf_event_data`: the registers of whatever the CPU ran when the event fired
 * (`ctx.ip()` is the sampled instruction, kernel or user), the sample period and address.
 */
export interface PerfEventContext extends Omit<Registers, "__ctx"> {
  readonly __ctx: "perf_event";
  /** `sample_period`: events per sample (the period, or what the frequency mode computed) */
  readonly samplePeriod: bigint;
  /** `addr`: the data address of the sample, for events that record one (else 0) */
  readonly addr: bigint;
}

/**
 * `struct bpf_sock_ops`: one TCP socket event of a cgroup. Addresses and ports are host-order
 * numbers (127.0.0.1 is 0x7f000001; the kernel's network-order fields are swapped on read).
 */
export interface SockOpsContext {
  readonly __ctx: "sockops";
  /** which event: a `SockOpsOp` value */
  readonly op: number;
  /** AF_INET (2) or AF_INET6 (10) */
  readonly family: number;
  readonly remoteIp4: number;
  readonly localIp4: number;
  readonly remotePort: number;
  readonly localPort: number;
  /** 1 when the socket is a full socket (the TCP fields below are 0 otherwise) */
  readonly isFullsock: number;
  /** TCP state (1 ESTABLISHED … `include/net/tcp_states.h`) */
  readonly state: number;
  readonly sndCwnd: number;
  readonly srttUs: number;
  readonly mssCache: number;
  readonly totalRetrans: number;
  readonly segsIn: number;
  readonly segsOut: number;
  readonly bytesReceived: bigint;
  readonly bytesAcked: bigint;
  /** `reply`: what ops such as TIMEOUT_INIT or RWND_INIT answer with (writable) */
  reply: number;
}

/** The `op` of a sockops program (`enum BPF_SOCK_OPS_*`, include/uapi/linux/bpf.h). */
export const SockOpsOp = {
  Void: 0,
  TimeoutInit: 1,
  RwndInit: 2,
  TcpConnect: 3,
  ActiveEstablished: 4,
  PassiveEstablished: 5,
  NeedsEcn: 6,
  BaseRtt: 7,
  RtoCb: 8,
  RetransCb: 9,
  StateCb: 10,
  TcpListen: 11,
  RttCb: 12,
} as const;
export type SockOpsOp = (typeof SockOpsOp)[keyof typeof SockOpsOp];

/** `struct __sk_buff` of an sk_skb program: one chunk of a socket's received stream. */
export interface SkSkbContext {
  readonly __ctx: "sk_skb";
  /** bytes in this skb */
  readonly len: number;
}

/** `struct sk_msg_md`: one message a socket sends (sendmsg/sendfile), before it is queued. */
export interface SkMsgContext {
  readonly __ctx: "sk_msg";
  /** bytes in the whole message */
  readonly size: number;
  readonly family: number;
  readonly remoteIp4: number;
  readonly localIp4: number;
  readonly remotePort: number;
  readonly localPort: number;
}

// ----------------------------------------------------------------------------------- maps

/** Options of SockMap/SockHash `redirect()`. */
export interface RedirectOptions {
  /** deliver to the target socket's receive queue (BPF_F_INGRESS) instead of sending from it */
  ingress?: boolean;
}

/**
 * `BPF_MAP_TYPE_SOCKMAP`: sockets by index (u32). User space stores socket fds
 * (`coll.map("socks").update(u32(0), u32(fd))`); sk_skb/sk_msg programs attached to the map
 * run for those sockets and redirect to others with `redirect()`.
 */
export class SockMap {
  declare private readonly __kind: "sockmap";
  constructor(options: MapOptions) {
    void options;
    kernelOnly();
  }
  /**
   * sk_msg: `bpf_msg_redirect_map`, sk_skb: `bpf_sk_redirect_map`: send this message/skb to
   * the socket at `key`. Returns `SkAction.Pass` when the redirect is set up (return it as the
   * verdict), `SkAction.Drop` when there is no socket there.
   */
  redirect(ctx: SkMsgContext | SkSkbContext, key: number, options?: RedirectOptions): SkAction {
    unused(ctx, key, options);
    return kernelOnly();
  }
  /** sockops: `bpf_sock_map_update`: store this (established) socket at `key`; 0 or -errno. */
  update(ctx: SockOpsContext, key: number, flags?: number): number {
    unused(ctx, key, flags);
    return kernelOnly();
  }
}

/** `BPF_MAP_TYPE_SOCKHASH`: sockets by a key of type `K` (e.g. a 4-tuple struct). */
export class SockHash<K extends Type> {
  declare private readonly __kind: "sockhash";
  constructor(key: K, options: MapOptions) {
    unused(key, options);
    kernelOnly();
  }
  /** `bpf_msg_redirect_hash` / `bpf_sk_redirect_hash`: as SockMap.redirect, by key. */
  redirect(ctx: SkMsgContext | SkSkbContext, key: Infer<K>, options?: RedirectOptions): SkAction {
    unused(ctx, key, options);
    return kernelOnly();
  }
  /** sockops: `bpf_sock_hash_update`: store this socket under `key`; 0 or -errno. */
  update(ctx: SockOpsContext, key: Infer<K>, flags?: number): number {
    unused(ctx, key, flags);
    return kernelOnly();
  }
}

// ------------------------------------------------------------------------------- programs

function declare<K extends string>(): ProgramDecl<K> {
  return kernelOnly();
}

/**
 * `perf_event`: runs on every sample of a perf event (a CPU profiler: a software `cpu-clock`
 * or hardware `cycles` event on each CPU). The loader opens the event and attaches to it:
 * `tsbpf load --sample-freq 99`, or `attachPerfEvent(prog, { sampleFreq: 99 })`.
 */
export function perfEvent(fn: (ctx: PerfEventContext) => number): ProgramDecl<"perf_event"> {
  void fn;
  return declare();
}

/**
 * `lsm/<hook>` (`file_open`, `bprm_check_security`, …): a BPF LSM program on a security hook
 * (needs `bpf` in the kernel's LSM list, /sys/kernel/security/lsm). `ctx.arg(i)` is the hook's
 * i-th argument (typed by the kernel: `kernelPtr<file>(ctx.arg(0))`); after the arguments,
 * `ctx.arg(n)` is the verdict of the previous program. Return 0 to allow, a negative errno
 * (`-1` EPERM) to deny.
 */
export function lsm(hook: string, fn: (ctx: RawTracepointContext) => number): ProgramDecl<"lsm"> {
  unused(hook, fn);
  return declare();
}

/**
 * `sockops`: TCP socket events (connect, established, RTT, state changes…) of the sockets in
 * a cgroup; attach with `tsbpf load --cgroup PATH`. Return 1.
 */
export function sockops(fn: (ctx: SockOpsContext) => number): ProgramDecl<"sockops"> {
  void fn;
  return declare();
}

/**
 * `sk_skb/stream_parser` (returns the length of the next message, or the skb's `len`) or
 * `sk_skb/stream_verdict` (returns an SkAction, or a `redirect()` result) for the sockets of
 * a SockMap/SockHash: attached to the map (`tsbpf load` attaches to the object's one socket map).
 */
export function skSkb(
  hook: "stream_parser" | "stream_verdict",
  fn: (ctx: SkSkbContext) => number,
): ProgramDecl<"sk_skb"> {
  unused(hook, fn);
  return declare();
}

/** `sk_msg`: the verdict on each message sent by a socket of a SockMap/SockHash (SkAction). */
export function skMsg(fn: (ctx: SkMsgContext) => SkAction): ProgramDecl<"sk_msg"> {
  void fn;
  return declare();
}
