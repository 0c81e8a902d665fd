// A program loaded into the kernel: its fd, what the object said about it, and the ways to use
// it (attach by section kind, test-run, pin).
import type { ProgramSpec } from "../obj/object.js";
import type { ProgramSection } from "../obj/section.js";
import { ProgType, nameOf } from "../obj/consts.js";
import { FD } from "../sys/fd.js";
import { objGet, progTestRun, type ProgTestRunResult } from "../sys/bpf.js";
import { progInfo, type ProgInfo } from "../sys/info.js";
import {
  AttachError,
  attachBySection,
  type AttachOptions,
  type Link,
  type UsdtSpecMap,
} from "../link/index.js";
import { pinObject } from "./pin.js";
import { TsbpfError } from "../errors.js";

/** A program operation that cannot be done: the program was closed (or its Collection was). */
export class ProgramError extends TsbpfError {
  override readonly name = "ProgramError";
}

export interface TestRunOptions {
  /** packet or input data (XDP, TC, socket filter) */
  data?: Uint8Array;
  /** context (e.g. struct __sk_buff or xdp_md) */
  ctx?: Uint8Array;
  /** run this many times (duration is then the average) */
  repeat?: number;
  /** capacity for output data, default data length + 256 */
  dataOutSize?: number;
  ctxOutSize?: number;
  flags?: number;
  cpu?: number;
}

export class Program implements Disposable {
  readonly name: string;
  /** BPF_PROG_TYPE_* */
  readonly type: number;
  /** the ELF section it came from, e.g. "xdp" or "tracepoint/syscalls/sys_enter_openat" */
  readonly section: string;
  /** what the section name says about attaching it (undefined for unknown sections) */
  readonly sectionInfo: ProgramSection | undefined;
  /** the spec it was loaded from, when loaded from an object */
  readonly spec: ProgramSpec | undefined;
  /** the object's usdt.bpf.h spec map, which attaching a USDT program fills */
  readonly usdtSpecs: UsdtSpecMap | undefined;
  readonly #fd: FD;

  constructor(
    fd: FD,
    init: {
      name: string;
      type: number;
      section?: string;
      spec?: ProgramSpec;
      usdtSpecs?: UsdtSpecMap;
    },
  ) {
    this.#fd = fd;
    this.name = init.name;
    this.type = init.type;
    this.section = init.section ?? init.spec?.section ?? "";
    this.spec = init.spec;
    this.sectionInfo = init.spec?.sectionInfo;
    this.usdtSpecs = init.usdtSpecs;
  }

  /** Opens a program pinned in bpffs. */
  static fromPin(path: string): Program {
    const fd = objGet(path);
    const info = progInfo(fd.fd);
    return new Program(fd, { name: info.name, type: info.type });
  }

  get fd(): number {
    if (this.#fd.closed)
      throw new ProgramError(
        `program ${this.name} is closed (closing its Collection or Loaded closes it): load the object again to use it`,
      );
    return this.#fd.fd;
  }

  get closed(): boolean {
    return this.#fd.closed;
  }

  /** Kernel label of the program type, e.g. "XDP". */
  get typeName(): string {
    return nameOf(ProgType, this.type);
  }

  /** The label `tsbpf load` prints: "XDP", "Tracepoint", "KProbe", … */
  get kindLabel(): string {
    return this.sectionInfo?.displayKind ?? this.typeName;
  }

  /**
   * Attaches the program where its section says (xdp → an interface, tracepoint/<cat>/<name>,
   * uprobe/<binary>:<symbol>, …). Options supply what the section cannot: the interface, the
   * binary, the pid. The returned Link detaches on close()/dispose.
   */
  attach(opts: AttachOptions = {}): Link {
    if (this.#fd.closed)
      throw new AttachError(
        `program ${this.name} is closed (closing its Collection or Loaded closes it): load the object again to attach it`,
      );
    if (!this.sectionInfo)
      throw new AttachError(
        `program ${this.name}: section "${this.section}" does not say how to attach it; ` +
          `use the attach functions of tsbpf/link directly`,
      );
    return attachBySection(this, this.sectionInfo, opts);
  }

  /** BPF_PROG_TEST_RUN: run the program once (or `repeat` times) on crafted input. */
  testRun(opts: TestRunOptions = {}): ProgTestRunResult {
    return progTestRun({
      progFd: this.fd,
      ...(opts.data && { dataIn: opts.data }),
      ...(opts.ctx && { ctxIn: opts.ctx }),
      ...(opts.repeat !== undefined && { repeat: opts.repeat }),
      ...(opts.dataOutSize !== undefined && { dataOutSize: opts.dataOutSize }),
      ...(opts.ctxOutSize !== undefined && { ctxOutSize: opts.ctxOutSize }),
      ...(opts.flags !== undefined && { flags: opts.flags }),
      ...(opts.cpu !== undefined && { cpu: opts.cpu }),
    });
  }

  /** Kernel's view of the program (id, tag, verified instruction count, …). */
  info(): ProgInfo {
    return progInfo(this.fd);
  }

  /** Pins the program in bpffs so it outlives this process. */
  pin(path: string): void {
    pinObject(this.fd, path, `program ${this.name}`);
  }

  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
