// The one thing every attach function returns: a `Link` that detaches on close().
// Where the kernel has bpf_link (the attachment is a kernel object owned by an fd), the link is
// an `FdLink`: a killed process leaves nothing attached, and pinning keeps it past the process.
// Older mechanisms (netlink XDP, perf ioctl, setsockopt) get their own small classes.

import type { UsdtSpecMap } from "./usdt.js";
import { pinObject } from "../load/pin.js";
import { linkDetach, linkUpdate } from "../sys/bpf.js";
import type { FD } from "../sys/fd.js";
import { LinkError } from "./errors.js";
import { linkInfo, type LinkInfo } from "../sys/info.js";

/** What attach functions need of a program: a loaded program's fd, name and type. */
export interface AttachableProgram {
  readonly fd: number;
  readonly name: string;
  /** BPF_PROG_TYPE_* (ProgType) */
  readonly type: number;
  /** the object's usdt.bpf.h spec map (`__bpf_usdt_specs`), which USDT attach fills */
  readonly usdtSpecs?: UsdtSpecMap | undefined;
}

export interface Link extends Disposable {
  /** attach mechanism, e.g. "xdp", "tcx", "tracepoint", "uprobe" */
  readonly kind: string;
  /** what is attached where, e.g. `xdp count_packets on veth0 (ifindex 4, bpf_link)` */
  readonly description: string;
  /** Detach (or drop our reference to a pinned bpf_link). Closing twice is harmless. */
  close(): void;
  /** Pin a bpf_link-backed link in bpffs so it outlives this process (bpf_link kinds only). */
  pin?(path: string): void;
}

/** A bpf_link: the attachment lives as long as its fd (or a pin) does. */
export class FdLink implements Link {
  constructor(
    readonly kind: string,
    readonly description: string,
    readonly fd: FD,
    /** released after the link fd (e.g. the perf event a perf_event link points at) */
    private readonly extra?: { close(): void },
  ) {}

  get closed(): boolean {
    return this.fd.closed;
  }

  /** The link fd's number, or a LinkError naming the link when it was closed. */
  protected liveFd(what: string): number {
    if (this.fd.closed)
      throw new LinkError(
        `${this.description}: cannot ${what} a closed link (close() detached it or dropped its fd); attach again, or open its pin, to use it`,
      );
    return this.fd.fd;
  }

  /** The kernel's view: link id, program id, and the kind-specific target. */
  info(): LinkInfo {
    return linkInfo(this.liveFd("read the info of"));
  }

  /** The kernel's link id (what `bpftool link` lists). */
  get id(): number {
    return this.info().id;
  }

  /** Pin in bpffs (mounted at /sys/fs/bpf when needed): the attachment then outlives this fd. */
  pin(path: string): void {
    pinObject(this.liveFd("pin"), path, this.description);
  }

  /** Atomically run another program in this attachment (same type). */
  update(prog: AttachableProgram, opts: { expected?: AttachableProgram } = {}): void {
    linkUpdate(
      this.liveFd("update"),
      prog.fd,
      opts.expected === undefined ? {} : { oldProgFd: opts.expected.fd },
    );
  }

  /** Detach now even if the link is pinned or its fd shared (the fd stays, defunct). */
  detach(): void {
    linkDetach(this.liveFd("detach"));
  }

  close(): void {
    this.fd.close();
    this.extra?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** A link whose teardown is a function (netlink XDP, perf ioctl, setsockopt detach …). */
export class CallbackLink implements Link {
  #teardown: (() => void) | undefined;

  constructor(
    readonly kind: string,
    readonly description: string,
    teardown: () => void,
  ) {
    this.#teardown = teardown;
  }

  get closed(): boolean {
    return this.#teardown === undefined;
  }

  close(): void {
    const t = this.#teardown;
    this.#teardown = undefined;
    t?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** `prog` as it appears in descriptions and errors. */
export const progLabel = (prog: AttachableProgram): string =>
  prog.name === "" ? `program fd ${prog.fd}` : `program ${prog.name}`;
