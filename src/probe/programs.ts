// Program kinds: `export const name = xdp(...)` makes `name` a program. The top-level scan
// (src/compiler/module/scan.ts) maps each kind to its ELF section, which src/obj/section.ts
// parses back for the loader.
import type { Infer, Type } from "../types/type.js";
import { kernelOnly, unused } from "./kernel-only.js";
import type {
  CgroupSkbContext,
  RawTracepointContext,
  Registers,
  SocketFilterContext,
  TcContext,
  TracepointContext,
  XdpContext,
} from "./context.js";
import type { SkAction, TcAction, XdpAction } from "./actions.js";

// Programs. Export the result: `export const name = xdp(...)`; `name` becomes the program.

/** A compiled program; its kind decides the ELF section (libbpf SEC() names). */
export interface ProgramDecl<Kind extends string> {
  readonly __program: Kind;
}

function declare<K extends string>(): ProgramDecl<K> {
  return kernelOnly();
}

export function xdp(fn: (ctx: XdpContext) => XdpAction): ProgramDecl<"xdp"> {
  void fn;
  return declare();
}

export function tc(fn: (ctx: TcContext) => TcAction): ProgramDecl<"tc"> {
  void fn;
  return declare();
}

/** Returns how many bytes of the packet to keep (0 drops it). */
export function socketFilter(fn: (ctx: SocketFilterContext) => number): ProgramDecl<"socket"> {
  void fn;
  return declare();
}

export function cgroupSkb(
  direction: "ingress" | "egress",
  fn: (ctx: CgroupSkbContext) => SkAction,
): ProgramDecl<"cgroup_skb"> {
  unused(direction, fn);
  return declare();
}

/** `tracepoint/<category>/<name>`; `layout` describes the record after the 8-byte header. */
export function tracepoint<L extends Type>(
  category: string,
  name: string,
  layout: L,
  fn: (ctx: TracepointContext<Infer<L>>) => number,
): ProgramDecl<"tracepoint"> {
  unused(category, name, layout, fn);
  return declare();
}

export function rawTracepoint(
  name: string,
  fn: (ctx: RawTracepointContext) => number,
): ProgramDecl<"raw_tracepoint"> {
  unused(name, fn);
  return declare();
}

export function tpBtf(
  name: string,
  fn: (ctx: RawTracepointContext) => number,
): ProgramDecl<"tp_btf"> {
  unused(name, fn);
  return declare();
}

export function kprobe(fn: (regs: Registers) => number, target: string): ProgramDecl<"kprobe"> {
  unused(fn, target);
  return declare();
}

export function kretprobe(
  fn: (regs: Registers) => number,
  target: string,
): ProgramDecl<"kretprobe"> {
  unused(fn, target);
  return declare();
}

/** `uprobe` section; the loader attaches it to a binary and offset. */
export function uprobe(fn: (regs: Registers) => number): ProgramDecl<"uprobe"> {
  void fn;
  return declare();
}

export function uretprobe(fn: (regs: Registers) => number): ProgramDecl<"uretprobe"> {
  void fn;
  return declare();
}
