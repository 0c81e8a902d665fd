// Packet writes and the helpers that change packet data (issue 12).
//
// - Header fields are written through the same checked pointers they are read through
//   (`ip.ttl--`, `eth.swapMacs()`, `t.setDest(8080)`): the verifier accepts a store wherever it
//   accepted the load, in xdp and tc programs (cgroup skb programs may only read).
// - A helper that changes packet data (bpf_xdp_adjust_head/tail, bpf_skb_store_bytes,
//   bpf_l3/l4_csum_replace, bpf_skb_adjust_room, …) makes the verifier forget every packet
//   pointer. After one, data and data_end are loaded again into the same registers, the parse
//   cache is dropped, and a header view formed before the call is rejected where it is used
//   (TSBPF1006, "parse again") whenever the call can reach that use.
// - Checksums: `csumReplace` (RFC 1624 arithmetic, any program), `ip.updateChecksum()`,
//   `csumDiff`/`csumFold` (bpf_csum_diff) and, in tc, `ctx.l3CsumReplace`/`l4CsumReplace`.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { imm, reg, successors, type Base, type Block, type Operand, type VReg } from "../ir/ir.js";
import { helperId } from "../../obj/helpers.js";
import type { LowerHost as Lowerer, PacketRegs } from "./host.js";
import type { IrBuilder } from "./builder.js";

/** What the memory layer (which stores views into structs) can offer: the builder, packet regs. */
type Builder = IrBuilder & { readonly packet: PacketRegs | undefined };
import { forgetEthCheck, variableBytes } from "./packet-headers.js";
import type { RefValue, Value, ViewValue } from "./values.js";

type Size = 1 | 2 | 4 | 8;

/** A header field: where it is in the header and how it is stored. */
interface Field {
  off: number;
  /** "int": `size` bytes in network order; "mac": 6 bytes; "addr16": 16 bytes */
  kind: "int" | "mac" | "addr16";
  size: 1 | 2 | 4;
  /** writable in xdp/tc */
  write: boolean;
}
const int = (off: number, size: 1 | 2 | 4, write = true): Field => ({
  off,
  kind: "int",
  size,
  write,
});
const mac = (off: number): Field => ({ off, kind: "mac", size: 1, write: true });
const addr16 = (off: number): Field => ({ off, kind: "addr16", size: 1, write: true });

/** Fields by tsbpf/probe interface; the ones packet.ts reads (read-only) are listed for writes. */
const FIELDS: Record<string, Record<string, Field>> = {
  EthernetHeader: { dst: mac(0), src: mac(6), protocol: int(12, 2) },
  Ipv4Header: {
    tos: int(1, 1),
    totalLength: int(2, 2),
    id: int(4, 2),
    ttl: int(8, 1),
    protocol: int(9, 1),
    checksum: int(10, 2),
    saddr: int(12, 4),
    daddr: int(16, 4),
  },
  Ipv6Header: {
    payloadLength: int(4, 2),
    hopLimit: int(7, 1),
    saddr: addr16(8),
    daddr: addr16(24),
  },
  TcpHeader: { checksum: int(16, 2) },
  UdpHeader: { checksum: int(6, 2) },
  IcmpHeader: {
    type: int(0, 1),
    code: int(1, 1),
    checksum: int(2, 2),
    id: int(4, 2),
    sequence: int(6, 2),
  },
  VlanHeader: {},
  ArpHeader: {
    operation: int(6, 2),
    senderMac: mac(8),
    senderIp: int(14, 4),
    targetMac: mac(18),
    targetIp: int(24, 4),
  },
};
/** Fields only this module reads (packet.ts reads the others). */
const READ_HERE: Record<string, readonly string[]> = {
  EthernetHeader: ["dst", "src"],
  Ipv4Header: ["id", "checksum"],
  TcpHeader: ["checksum"],
  UdpHeader: ["checksum"],
  IcmpHeader: ["type", "code", "checksum", "id", "sequence"],
  ArpHeader: ["operation", "senderMac", "senderIp", "targetMac", "targetIp"],
};

// ---- packet-changing helpers and stale views ----

interface Change {
  /** the block the helper call ended in */
  block: Block;
  /** vregs numbered below this existed before the call */
  mark: VReg;
  what: string;
  line: number;
}
const changes = new WeakMap<IrBuilder, Change[]>();

/** Helpers after which the verifier forgets every packet pointer (bpf_helper_changes_pkt_data). */
export const CHANGES_PACKET: ReadonlySet<number> = new Set(
  [
    "skb_store_bytes",
    "l3_csum_replace",
    "l4_csum_replace",
    "clone_redirect",
    "skb_vlan_push",
    "skb_vlan_pop",
    "skb_change_proto",
    "skb_change_tail",
    "skb_pull_data",
    "skb_change_head",
    "xdp_adjust_head",
    "skb_adjust_room",
    "xdp_adjust_meta",
    "msg_pull_data",
    "xdp_adjust_tail",
    "lwt_push_encap",
    "lwt_seg6_store_bytes",
    "lwt_seg6_adjust_srh",
    "lwt_seg6_action",
    "msg_push_data",
    "msg_pop_data",
  ].map((n) => helperId(n)!),
);

/**
 * After a helper that changed packet data: load data/data_end again (into the same registers,
 * so every path after a join has valid bounds), forget cached parses, remember the call so a
 * view formed before it is rejected where the call reaches its use.
 */
export function packetChanged(lw: Lowerer, what: string, node: ts.Node): void {
  const p = lw.packet;
  if (!p) return;
  const ctx: Base = { kind: "reg", id: lw.func.ctx };
  const [d, e] = lw.prog.api === "xdp" ? [0, 4] : [76, 80];
  lw.emit({ op: "load", dst: p.data, base: ctx, off: d, size: 4 });
  lw.emit({ op: "load", dst: p.end, base: ctx, off: e, size: 4 });
  lw.parsed.clear();
  forgetEthCheck(lw);
  const sf = node.getSourceFile();
  const list = changes.get(lw) ?? [];
  list.push({
    block: lw.cur,
    mark: lw.func.nextVreg,
    what,
    line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
  });
  changes.set(lw, list);
}

/** True when code lowered so far can go from `from` to the block being lowered. */
function reaches(lw: Builder, from: Block): boolean {
  const byId = new Map(lw.func.blocks.map((b) => [b.id, b]));
  const seen = new Set<number>([from.id]);
  const work = [from];
  while (work.length) {
    const b = work.pop()!;
    if (b === lw.cur) return true;
    if (lw.isOpen(b)) continue;
    for (const s of successors(b.term))
      if (!seen.has(s)) {
        seen.add(s);
        work.push(byId.get(s)!);
      }
  }
  return false;
}

/** Rejects a use of a header view that a packet-changing helper made invalid. */
export function checkFresh(lw: Builder, v: ViewValue, node: ts.Node): void {
  const list = changes.get(lw);
  if (!list) return;
  for (const c of list)
    if (v.ptr < c.mark && reaches(lw, c.block))
      throw CompileError.at(
        node,
        Code.BadApi,
        `this packet ${v.view === "ipv6addr" || v.view === "mac" ? "address" : `${v.view} view`} was formed before ${c.what} (line ${c.line}) changed the packet: the kernel invalidates every packet pointer there. Parse the header again after the call (const eth2 = ctx.eth(), ctx.ip(), …) and use the new view`,
      );
}

function writable(lw: Lowerer, node: ts.Node): void {
  const kind = lw.prog.api;
  if (kind === "xdp" || kind === "tc") return;
  throw CompileError.at(
    node,
    Code.BadApi,
    kind === "cgroupSkb"
      ? "cgroup skb programs may read the packet but not write it (the kernel refuses); write packets from an xdp or tc program"
      : `${kind} programs cannot write packets; use an xdp or tc program`,
  );
}

// ---- which header interface an expression has ----

function ifaceNames(lw: Lowerer, t: ts.Type): string[] {
  const parts = t.isUnion() ? t.types : [t];
  const out: string[] = [];
  for (const p of parts) {
    const sym = p.aliasSymbol ?? p.getSymbol();
    if (!sym) continue;
    for (const name of Object.keys(FIELDS))
      if (lw.fe.probeExports.get(name) === sym && !out.includes(name)) out.push(name);
  }
  return out;
}

/** The interfaces the object of `e` (a property access or destructuring element) may be. */
function objectIfaces(lw: Lowerer, e: ts.Node): string[] {
  const obj = ts.isPropertyAccessExpression(e)
    ? e.expression
    : ts.isBindingElement(e)
      ? e.parent
      : undefined;
  if (!obj) return [];
  return ifaceNames(lw, lw.fe.checker.getTypeAtLocation(obj));
}

/** The field `name` has in every interface the object may be, or undefined / an error. */
function fieldOf(lw: Lowerer, e: ts.Node, name: string, forWrite: boolean): Field | undefined {
  const ifaces = objectIfaces(lw, e);
  const found = ifaces.map((i) => FIELDS[i]![name]);
  if (found.length === 0 || found.every((f) => f === undefined)) return undefined;
  const first = found[0];
  if (
    found.some(
      (f) =>
        f === undefined || f.off !== first?.off || f.kind !== first.kind || f.size !== first.size,
    )
  )
    throw CompileError.at(
      e,
      Code.BadApi,
      ifaces.includes("Ipv4Header")
        ? `narrow the IP header first: if (ip.version === 4) { … ip.${name} … }`
        : `narrow the header first: if (t.protocol === "${ifaces.includes("IcmpHeader") ? "icmp" : "tcp"}") { … t.${name} … }`,
    );
  if (forWrite && !first!.write) throw CompileError.at(e, Code.BadApi, `${name} cannot be written`);
  return first;
}

// ---- reads this module adds ----

const ptrOf = (v: ViewValue): Base => ({ kind: "reg", id: v.ptr });

function loadBe(lw: Lowerer, base: Base, off: number, size: 1 | 2 | 4): Operand {
  const x = lw.load(base, off, size);
  if (size === 1) return reg(x);
  const d = lw.vreg();
  lw.emit({ op: "bswap", dst: d, a: reg(x), bits: (size * 8) as 16 | 32 });
  return reg(d);
}

/** Properties of views this module reads (new fields, MAC addresses); undefined otherwise. */
export function viewProperty(
  lw: Lowerer,
  v: ViewValue,
  name: string,
  e: ts.Node,
): Value | undefined {
  checkFresh(lw, v, e);
  if (v.view === "vbytes") return variableBytes(lw, v, name, undefined, e);
  if (v.view === "mac" && name === "value") {
    const hi = loadBe(lw, ptrOf(v), 0, 4);
    const lo = loadBe(lw, ptrOf(v), 4, 2);
    return { k: "int", op: reg(lw.alu("or", reg(lw.alu("lsh", hi, imm(16))), lo)) };
  }
  if (v.view === "vlan") {
    if (name === "protocol") return { k: "int", op: loadBe(lw, ptrOf(v), 2, 2) };
    const tci = loadBe(lw, ptrOf(v), 0, 2);
    if (name === "id") return { k: "int", op: reg(lw.alu("and", tci, imm(0xfff))) };
    if (name === "priority") return { k: "int", op: reg(lw.alu("rsh", tci, imm(13))) };
    return undefined;
  }
  if (v.view === "icmp" && name === "protocol")
    return { k: "int", op: reg(v.aux!), strings: { icmp: 1, icmpv6: 58 } };
  if (!["eth", "ip", "transport", "icmp", "arp", "vlan"].includes(v.view)) return undefined;
  const ifaces = objectIfaces(lw, e);
  if (!ifaces.some((i) => READ_HERE[i]?.includes(name))) return undefined;
  const f = fieldOf(lw, e, name, false);
  if (!f) return undefined;
  if (f.kind === "mac")
    return { k: "view", view: "mac", ptr: lw.alu("add", reg(v.ptr), imm(f.off)) };
  if (f.kind === "int") return { k: "int", op: loadBe(lw, ptrOf(v), f.off, f.size) };
  return undefined;
}

// ---- writes ----

/** Copy `n` bytes (6 or 16) from a view or ref into packet memory at `to`+`off`. */
function storeBytesFrom(lw: Lowerer, to: Base, off: number, n: 6 | 16, v: Value, node: ts.Node) {
  let from: Base;
  let fromOff = 0;
  if (v.k === "view" && ((n === 6 && v.view === "mac") || (n === 16 && v.view === "ipv6addr"))) {
    checkFresh(lw, v, node);
    from = ptrOf(v);
  } else if (v.k === "ref" && v.type.size === n && v.type.kind === "array") {
    from = v.base;
    fromOff = v.off;
  } else if (n === 6 && (v.k === "int" || v.k === "const")) {
    const x = lw.int(v, node);
    if (x.kind === "imm") {
      const k = BigInt.asUintN(48, x.value);
      storeBe(lw, to, off, 4, imm(k >> 16n));
      storeBe(lw, to, off + 4, 2, imm(k & 0xffffn));
    } else {
      storeBe(lw, to, off, 4, reg(lw.alu("rsh", x, imm(16))));
      storeBe(lw, to, off + 4, 2, x);
    }
    return;
  } else
    throw CompileError.at(
      node,
      Code.BadApi,
      n === 6
        ? "a MAC address is assigned another header's MAC (eth.src), an array(u8, 6) field or a 48-bit number"
        : "an IPv6 address is assigned another address (ip.saddr) or an array(u8, 16) field",
    );
  copyAligned(lw, from, fromOff, to, off, n);
}

/**
 * Copy `n` bytes in the largest pieces the stack's alignment allows (a stack access must be
 * aligned to its size; packet and map value accesses need not be on the targets tsbpf
 * supports). Everything is loaded before the first store.
 */
function copyAligned(lw: Builder, from: Base, fromOff: number, to: Base, toOff: number, n: number) {
  const parts: [number, Size][] = [];
  for (let o = 0; o < n;) {
    let size: Size = 8;
    while (
      size > n - o ||
      (to.kind === "slot" && (toOff + o) % size !== 0) ||
      (from.kind === "slot" && (fromOff + o) % size !== 0)
    )
      size = (size / 2) as Size;
    parts.push([o, size]);
    o += size;
  }
  const xs = parts.map(([o, s]) => lw.load(from, fromOff + o, s));
  parts.forEach(([o, s], i) =>
    lw.emit({ op: "store", base: to, off: toOff + o, size: s, value: reg(xs[i]!) }),
  );
}

function storeBe(lw: Lowerer, base: Base, off: number, size: 1 | 2 | 4, x: Operand): void {
  let v = x;
  if (size > 1) {
    if (v.kind === "imm") {
      const bits = BigInt(size * 8);
      let k = BigInt.asUintN(Number(bits), v.value);
      let out = 0n;
      for (let i = 0n; i < bits; i += 8n) {
        out = (out << 8n) | (k & 0xffn);
        k >>= 8n;
      }
      v = imm(out);
    } else {
      const d = lw.vreg();
      lw.emit({ op: "bswap", dst: d, a: v, bits: (size * 8) as 16 | 32 });
      v = reg(d);
    }
  }
  lw.emit({ op: "store", base, off, size, value: v });
}

/** `view.f = value()` (also `+=`, `++`: value() reads the old value first). */
export function assignViewField(
  lw: Lowerer,
  v: ViewValue,
  name: string,
  value: () => Value,
  target: ts.PropertyAccessExpression,
  node: ts.Node,
): Value {
  checkFresh(lw, v, target);
  writable(lw, target);
  const f = fieldOf(lw, target, name, true);
  if (!f)
    throw CompileError.at(
      target,
      Code.BadApi,
      v.view === "transport" && (name === "source" || name === "dest")
        ? `ports are written with t.set${name === "source" ? "Source" : "Dest"}(port)`
        : `${name} of a packet ${v.view} view cannot be written`,
    );
  const val = value();
  if (f.kind === "int") {
    storeBe(lw, ptrOf(v), f.off, f.size, lw.int(val, node));
    return val;
  }
  storeBytesFrom(lw, ptrOf(v), f.off, f.kind === "mac" ? 6 : 16, val, node);
  return val;
}

/** Copy a MAC address view into an `array(u8, 6)` (or 6-byte) field. */
export function storeViewInto(lw: Builder, place: RefValue, v: ViewValue, node: ts.Node): boolean {
  if (v.view !== "mac" || place.type.size !== 6) return false;
  checkFresh(lw, v, node);
  copyAligned(lw, ptrOf(v), 0, place.base, place.off, 6);
  return true;
}

/** Methods of views this module adds: swapMacs, setSource/setDest, updateChecksum, offset. */
export function viewMethod(
  lw: Lowerer,
  v: ViewValue,
  method: string,
  e: ts.CallExpression,
): Value | undefined {
  checkFresh(lw, v, e);
  if (v.view === "vbytes") return variableBytes(lw, v, method, e.arguments, e);
  const p = ptrOf(v);
  if (method === "offset" && v.view !== "payload" && v.view !== "bytes") {
    const pk = lw.packet!;
    return { k: "int", op: reg(lw.alu("sub", reg(v.ptr), reg(pk.data))) };
  }
  if (v.view === "eth" && method === "swapMacs") {
    writable(lw, e);
    const xs = ([0, 4, 6, 10] as const).map((o) => lw.load(p, o, o === 4 || o === 10 ? 2 : 4));
    lw.emit({ op: "store", base: p, off: 0, size: 4, value: reg(xs[2]!) });
    lw.emit({ op: "store", base: p, off: 4, size: 2, value: reg(xs[3]!) });
    lw.emit({ op: "store", base: p, off: 6, size: 4, value: reg(xs[0]!) });
    lw.emit({ op: "store", base: p, off: 10, size: 2, value: reg(xs[1]!) });
    return { k: "void" };
  }
  if (v.view === "transport" && (method === "setSource" || method === "setDest")) {
    writable(lw, e);
    const a = e.arguments[0];
    if (!a || e.arguments.length !== 1)
      throw CompileError.at(e, Code.BadApi, `${method}(port) takes the port (host order)`);
    const ifaces = objectIfaces(lw, e.expression);
    if (ifaces.includes("IcmpHeader"))
      throw CompileError.at(
        e,
        Code.BadApi,
        `narrow the transport header first: if (t.protocol === "tcp" || t.protocol === "udp") { … t.${method}(…) … }`,
      );
    storeBe(lw, p, method === "setSource" ? 0 : 2, 2, lw.int(lw.expr(a), a));
    return { k: "void" };
  }
  if (v.view === "ip" && method === "updateChecksum") {
    writable(lw, e);
    const ifaces = objectIfaces(lw, e.expression);
    if (ifaces.length !== 1 || ifaces[0] !== "Ipv4Header")
      throw CompileError.at(
        e,
        Code.BadApi,
        "IPv6 has no header checksum: narrow first, if (ip.version === 4) ip.updateChecksum()",
      );
    ipv4Checksum(lw, v);
    return { k: "void" };
  }
  return undefined;
}

/** Fold a sum of 16-bit words (< 2^32 + …) to 16 bits with end-around carry. */
function fold(lw: Lowerer, s: Operand, times = 2): VReg {
  let x = s;
  for (let i = 0; i < times; i++)
    x = reg(lw.alu("add", reg(lw.alu("and", x, imm(0xffff))), reg(lw.alu("rsh", x, imm(16)))));
  return (x as { id: VReg }).id;
}

/**
 * The IPv4 header checksum recomputed: the one's-complement sum of the header's 16-bit words
 * with the checksum field taken as 0. Words are added two at a time (32-bit loads; the fold
 * adds the halves); option words past the first 20 bytes are added while they are inside the
 * header length and the packet.
 */
function ipv4Checksum(lw: Lowerer, v: ViewValue): void {
  const p = ptrOf(v);
  const sum = lw.vreg();
  lw.emit({ op: "mov", dst: sum, src: reg(lw.load(p, 0, 4)) });
  const add = (o: number, size: 2 | 4) =>
    lw.emit({ op: "alu", alu: "add", dst: sum, a: reg(sum), b: reg(lw.load(p, o, size)) });
  add(4, 4);
  add(8, 2); // ttl, protocol; the checksum at 10 counts as 0
  add(12, 4);
  add(16, 4);
  const hl = lw.alu("lsh", reg(lw.alu("and", reg(lw.load(p, 0, 1)), imm(0x0f))), imm(2));
  const done = lw.newBlock();
  const { end } = lw.packet!;
  for (let o = 20; o < 60; o += 4) {
    const more = lw.newBlock();
    lw.branch("le", reg(hl), imm(o), done, more);
    lw.switchTo(more);
    const t = lw.alu("add", reg(v.ptr), imm(o + 4));
    const ok = lw.newBlock();
    lw.branch("gt", reg(t), reg(end), done, ok);
    lw.switchTo(ok);
    add(o, 4);
  }
  lw.jump(done);
  lw.switchTo(done);
  const f = fold(lw, reg(sum), 3);
  const c = lw.alu("and", reg(lw.alu("xor", reg(f), imm(-1))), imm(0xffff));
  lw.emit({ op: "store", base: p, off: 10, size: 2, value: reg(c) });
}

// ---- context methods (xdp, tc) ----

function call(lw: Lowerer, helper: string, args: Operand[]): VReg {
  const dst = lw.vreg();
  lw.emit({ op: "call", dst, helper: helperId(helper)!, args });
  lw.releaseTemps();
  return dst;
}

function argInt(lw: Lowerer, e: ts.CallExpression, i: number, dflt?: bigint): Operand {
  const a = e.arguments[i];
  if (!a) {
    if (dflt !== undefined) return imm(dflt);
    throw CompileError.at(e, Code.BadApi, `missing argument ${i + 1}`);
  }
  return lw.int(lw.expr(a), a);
}

function constSize(lw: Lowerer, e: ts.CallExpression, i: number, ok: number[], dflt?: number) {
  const a = e.arguments[i];
  const k = a === undefined ? dflt : lw.mod.consts.eval(a);
  if (typeof k !== "number" || !ok.includes(k))
    throw CompileError.at(
      a ?? e,
      Code.BadApi,
      `the size must be a constant ${ok.join(", ").replace(/, (\d+)$/, " or $1")}`,
    );
  return k;
}

/** Option flags from an object literal of booleans (`{ pseudoHeader: true }`). */
function flagsArg(
  lw: Lowerer,
  e: ts.CallExpression,
  i: number,
  bits: Record<string, bigint>,
): bigint {
  const a = e.arguments[i];
  if (!a) return 0n;
  const o = lw.mod.consts.eval(a);
  if (typeof o !== "object" || o === null)
    throw CompileError.at(
      a,
      Code.NotConstant,
      `the options must be a constant object literal: { ${Object.keys(bits)
        .map((k) => `${k}: true`)
        .join(", ")} }`,
    );
  let f = 0n;
  for (const [k, x] of Object.entries(o as Record<string, unknown>)) {
    const b = bits[k];
    if (b === undefined)
      throw CompileError.at(
        a,
        Code.BadApi,
        `unknown option ${k} (known: ${Object.keys(bits).join(", ")})`,
      );
    if (x === true) f |= b;
  }
  return f;
}

function bswap(lw: Lowerer, x: Operand, size: 2 | 4): Operand {
  if (x.kind === "imm") {
    let k = BigInt.asUintN(size * 8, x.value);
    let out = 0n;
    for (let i = 0; i < size; i++) {
      out = (out << 8n) | (k & 0xffn);
      k >>= 8n;
    }
    return imm(out);
  }
  const d = lw.vreg();
  lw.emit({ op: "bswap", dst: d, a: x, bits: (size * 8) as 16 | 32 });
  return reg(d);
}

/** A pointer argument: memory a helper may read (stack, map value) or a header view. */
function pointerArg(lw: Lowerer, v: Value, node: ts.Node): { ptr: Operand; size?: number } {
  if (v.k === "ref") {
    if (v.base.kind === "reg" && v.base.id === lw.func.ctx)
      throw CompileError.at(
        node,
        Code.BadApi,
        "helpers cannot take pointers into the context (the tracepoint record, __sk_buff): copy the field into a struct local first",
      );
    if (v.base.kind === "slot") {
      const d = lw.vreg();
      lw.emit({ op: "addr", dst: d, slot: v.base.slot, off: v.off });
      return { ptr: reg(d), size: v.type.size };
    }
    return {
      ptr: v.off === 0 ? reg(v.base.id) : reg(lw.alu("add", reg(v.base.id), imm(v.off))),
      size: v.type.size,
    };
  }
  if (v.k === "view") {
    checkFresh(lw, v, node);
    const size =
      v.view === "mac"
        ? 6
        : v.view === "ipv6addr"
          ? 16
          : v.view === "bytes"
            ? v.n
            : v.view === "eth"
              ? 14
              : undefined;
    return { ptr: reg(v.ptr), ...(size !== undefined && { size }) };
  }
  if (v.k === "ctx") return { ptr: reg(lw.func.ctx) };
  throw CompileError.at(node, Code.BadApi, `expected memory (a struct, field or header view) here`);
}

export function packetCtxMethod(
  lw: Lowerer,
  method: string,
  e: ts.CallExpression,
): Value | undefined {
  const kind = lw.prog.api;
  const ctx = reg(lw.func.ctx);
  const xdpOnly = ["adjustHead", "adjustTail"];
  const tcOnly = [
    "storeBytes",
    "l3CsumReplace",
    "l4CsumReplace",
    "adjustRoom",
    "changeTail",
    "pullData",
  ];
  if (kind !== "xdp" && kind !== "tc") {
    if (xdpOnly.includes(method) || tcOnly.includes(method))
      throw CompileError.at(
        e,
        Code.BadApi,
        `ctx.${method}() changes the packet: only ${xdpOnly.includes(method) ? "xdp" : "tc"} programs may call it`,
      );
    return undefined;
  }
  if ((kind === "xdp" && tcOnly.includes(method)) || (kind === "tc" && xdpOnly.includes(method)))
    throw CompileError.at(
      e,
      Code.BadApi,
      kind === "xdp"
        ? `ctx.${method}() is a tc (__sk_buff) helper; in xdp write through the header views (ip.ttl = …, eth.swapMacs()) and fix checksums with csumReplace() or ip.updateChecksum()`
        : `ctx.${method}() is an xdp helper; in tc use ${method === "adjustHead" ? "ctx.adjustRoom(lenDiff, mode)" : "ctx.changeTail(len)"}`,
    );
  const done = (helper: string, args: Operand[]): Value => {
    const r = call(lw, helper, args);
    packetChanged(lw, `bpf_${helper}`, e);
    return { k: "int", op: reg(r) };
  };
  switch (method) {
    case "adjustHead":
      return done("xdp_adjust_head", [ctx, argInt(lw, e, 0)]);
    case "adjustTail":
      return done("xdp_adjust_tail", [ctx, argInt(lw, e, 0)]);
    case "adjustRoom":
      return done("skb_adjust_room", [
        ctx,
        argInt(lw, e, 0),
        argInt(lw, e, 1),
        argInt(lw, e, 2, 0n),
      ]);
    case "changeTail":
      return done("skb_change_tail", [ctx, argInt(lw, e, 0), imm(0)]);
    case "pullData":
      return done("skb_pull_data", [ctx, argInt(lw, e, 0)]);
    case "l3CsumReplace":
    case "l4CsumReplace": {
      const off = argInt(lw, e, 0);
      const from = argInt(lw, e, 1);
      const to = argInt(lw, e, 2);
      const size = constSize(lw, e, 3, [2, 4]) as 2 | 4;
      const flags =
        method === "l4CsumReplace" ? flagsArg(lw, e, 4, { pseudoHeader: 0x10n, udp: 0x20n }) : 0n;
      // The helpers take the values as they are in the packet (network order).
      return done(method === "l3CsumReplace" ? "l3_csum_replace" : "l4_csum_replace", [
        ctx,
        off,
        bswap(lw, from, size),
        bswap(lw, to, size),
        imm(BigInt(size) | flags),
      ]);
    }
    case "storeBytes": {
      const off = argInt(lw, e, 0);
      const a = e.arguments[1];
      if (!a) throw CompileError.at(e, Code.BadApi, "storeBytes(offset, value, size?, options?)");
      const v = lw.expr(a);
      const flags = flagsArg(lw, e, 3, { recomputeChecksum: 1n, invalidateHash: 2n });
      let ptr: Operand;
      let size: number;
      if (v.k === "int" || v.k === "const") {
        const n = constSize(lw, e, 2, [1, 2, 4]) as 1 | 2 | 4;
        const x = lw.int(v, a);
        const slot = lw.slot(8, "the storeBytes value", e, true);
        storeBe(lw, { kind: "slot", slot }, 0, n, x);
        const d = lw.vreg();
        lw.emit({ op: "addr", dst: d, slot, off: 0 });
        ptr = reg(d);
        size = n;
      } else {
        const m = pointerArg(lw, v, a);
        if (m.size === undefined)
          throw CompileError.at(a, Code.BadApi, "storeBytes(): the source has no fixed size");
        if (e.arguments[2] !== undefined && lw.mod.consts.eval(e.arguments[2]) !== undefined)
          throw CompileError.at(
            e.arguments[2],
            Code.BadApi,
            "storeBytes(offset, from): the size is the source's; pass undefined here before options",
          );
        ptr = m.ptr;
        size = m.size;
      }
      return done("skb_store_bytes", [ctx, off, ptr, imm(size), imm(flags)]);
    }
  }
  return undefined;
}

// ---- functions: csumReplace, csumDiff, csumFold, helper() with pointers ----

export function packetFunction(lw: Lowerer, name: string, e: ts.CallExpression): Value | undefined {
  switch (name) {
    case "csumReplace": {
      const check = argInt(lw, e, 0);
      const from = argInt(lw, e, 1);
      const to = argInt(lw, e, 2);
      const size = constSize(lw, e, 3, [2, 4], 2);
      const not16 = (x: Operand) => reg(lw.alu("and", reg(lw.alu("xor", x, imm(-1))), imm(0xffff)));
      const lo16 = (x: Operand) => reg(lw.alu("and", x, imm(0xffff)));
      let s = lw.alu("add", not16(check), not16(from));
      s = lw.alu("add", reg(s), lo16(to));
      if (size === 4) {
        s = lw.alu("add", reg(s), not16(reg(lw.alu("rsh", from, imm(16)))));
        s = lw.alu("add", reg(s), lo16(reg(lw.alu("rsh", to, imm(16)))));
      }
      const f = fold(lw, reg(s));
      return { k: "int", op: reg(lw.alu("and", reg(lw.alu("xor", reg(f), imm(-1))), imm(0xffff))) };
    }
    case "csumFold": {
      // bpf_csum_diff sums memory-order words; the result is swapped to a host-order number.
      const f = fold(lw, argInt(lw, e, 0));
      const c = lw.alu("and", reg(lw.alu("xor", reg(f), imm(-1))), imm(0xffff));
      return { k: "int", op: bswap(lw, reg(c), 2) };
    }
    case "csumDiff": {
      const kind = lw.prog.api;
      if (kind !== "xdp" && kind !== "tc")
        throw CompileError.at(
          e,
          Code.BadApi,
          "csumDiff() (bpf_csum_diff) works in xdp and tc programs",
        );
      const mem = (i: number): [Operand, number] => {
        const a = e.arguments[i];
        if (!a) throw CompileError.at(e, Code.BadApi, "csumDiff(from, to, seed?)");
        const v = lw.expr(a);
        if (v.k === "const" && v.v === null) return [imm(0), 0];
        const m = pointerArg(lw, v, a);
        if (m.size === undefined || m.size % 4 !== 0 || m.size > 512)
          throw CompileError.at(
            a,
            Code.BadApi,
            "csumDiff(): each side is a struct, array field or address whose size is a multiple of 4 bytes (or null)",
          );
        return [m.ptr, m.size];
      };
      const [fp, fs] = mem(0);
      const [tp, ts_] = mem(1);
      const seed = argInt(lw, e, 2, 0n);
      return { k: "int", op: reg(call(lw, "csum_diff", [fp, imm(fs), tp, imm(ts_), seed])) };
    }
    case "helper": {
      const idArg = e.arguments[0];
      const id = idArg && lw.mod.consts.eval(idArg);
      if (typeof id !== "number" || !Number.isInteger(id) || id <= 0 || id > 0xffff)
        throw CompileError.at(
          idArg ?? e,
          Code.NotConstant,
          "helper(id, …): id must be a constant helper number",
        );
      if (e.arguments.length > 6)
        throw CompileError.at(e, Code.BadApi, "helpers take at most five arguments");
      const args = e.arguments.slice(1).map((a) => {
        const v = lw.expr(a);
        // Integers (also integer fields and scalar map values) pass their value; structs,
        // array fields, header views and ctx pass their address.
        if (v.k === "int" || v.k === "const" || (v.k === "ref" && v.type.kind === "int"))
          return lw.int(v, a);
        return pointerArg(lw, v, a).ptr;
      });
      const dst = lw.vreg();
      lw.emit({ op: "call", dst, helper: id, args });
      lw.releaseTemps();
      if (CHANGES_PACKET.has(id)) packetChanged(lw, `helper ${id}`, e);
      return { k: "int", op: reg(dst) };
    }
  }
  return undefined;
}

// ---- context fields written (tc, cgroup skb) ----

const SKB_WRITES: Record<string, { off: number; kinds: string[] }> = {
  mark: { off: 8, kinds: ["tc", "cgroupSkb"] },
  priority: { off: 32, kinds: ["tc", "cgroupSkb"] },
  queueMapping: { off: 12, kinds: ["tc"] },
  tcIndex: { off: 44, kinds: ["tc"] },
  tcClassid: { off: 72, kinds: ["tc"] },
  reply: { off: 4, kinds: ["sockops"] }, // bpf_sock_ops.reply
};

/** `ctx.mark = v` and friends. */
export function assignCtxField(
  lw: Lowerer,
  name: string,
  value: () => Value,
  target: ts.Node,
  node: ts.Node,
): Value {
  const w = SKB_WRITES[name];
  const kind = lw.prog.api;
  if (!w || !w.kinds.includes(kind))
    throw CompileError.at(
      target,
      Code.BadApi,
      `ctx.${name} cannot be written in a ${kind} program; writable: ${
        Object.entries(SKB_WRITES)
          .filter(([, x]) => x.kinds.includes(kind))
          .map(([k]) => k)
          .join(", ") ||
        "nothing (tc programs may write mark, priority, tcClassid, tcIndex, queueMapping)"
      }`,
    );
  const v = value();
  lw.emit({
    op: "store",
    base: { kind: "reg", id: lw.func.ctx },
    off: w.off,
    size: 4,
    value: lw.int(v, node),
  });
  return v;
}

/** `ctx.tcClassid`, `ctx.tcIndex` reads (the other fields are read in the lowerer). */
export function ctxFieldRead(lw: Lowerer, name: string): Value | undefined {
  if (lw.prog.api !== "tc" || (name !== "tcClassid" && name !== "tcIndex")) return undefined;
  return {
    k: "int",
    op: reg(lw.load({ kind: "reg", id: lw.func.ctx }, SKB_WRITES[name]!.off, 4)),
  };
}
