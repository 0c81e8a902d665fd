// Packet parsing with direct packet access. Every header view is a pointer derived from the
// `data` loaded once at program entry, checked against `data_end` right after it is formed
// (`if (p + N > data_end) goto null`), so the verifier's range on that pointer lineage covers
// every later field load. Views are 0 when the packet lacks the header.
//
// The IP version and transport protocol are kept in registers set to constants on each path
// (4/6, 6/17) instead of being re-read from the packet: the verifier then knows, on the IPv4
// path, that `version === 6` is false, and never walks into IPv6 field loads it did not check.
import ts from "typescript";
import { NOT_CONST } from "../module/consteval.js";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type Base, type Block, type VReg } from "../ir/ir.js";
import type { LowerHost } from "./host.js";
import type { Value, ViewValue } from "./values.js";
import { viewMethod, viewProperty } from "./packet-write.js";
import { checkBounds, layer, packetRegs, whenPresent } from "./packet-base.js";
import {
  ethBoundsCheck,
  parseIcmp,
  parseL2,
  readVariable,
  walkIpv6Extensions,
  warnNotTransport,
} from "./packet-headers.js";
import { CONTEXTS, contextField } from "../../obj/program-kinds.js";

/** `transport.protocol` names: the IP protocol numbers the transport tag holds. */
const TRANSPORT_NAMES = { tcp: 6, udp: 17 } as const;

export type ParseLevel =
  | "eth"
  | "ip"
  | "transport"
  | "payload"
  /** transport / payload behind IPv6 extension headers (`{ ipv6Extensions: true }`) */
  | "transportX"
  | "payloadX"
  | "icmp"
  | "vlan"
  | "vlan1"
  | "arp";

const ETH_HLEN = 14;
const ETH_P_IP_LE = 0x0008; // 0x0800 as the little-endian load of its big-endian bytes
const ETH_P_IPV6_LE = 0xdd86;

/**
 * Parse up to `level`; the view's pointer is 0 when a layer is missing or short. Each layer
 * starts from the one below (ip → transport → payload); a parse done where it dominates the
 * rest of the program is reused by later calls, so `ctx.ip()`, `ctx.transport()` and
 * `ctx.data()` in sequence parse each header once.
 */
export function parsePacket(lw: LowerHost, level: ParseLevel, node: ts.Node): ViewValue {
  if (
    level === "transport" ||
    level === "payload" ||
    level === "transportX" ||
    level === "payloadX"
  )
    warnNotTransport(lw, level.startsWith("transport") ? "ctx.transport()" : "ctx.data()", node);
  const cached = lw.parsed.get(level);
  if (cached) return cached;
  const { l3 } = packetRegs(lw, node);
  if (l3 && (level === "eth" || level === "vlan" || level === "vlan1" || level === "arp"))
    throw CompileError.at(
      node,
      Code.BadApi,
      "cgroup skb programs see packets from the IP header: there is no Ethernet header",
    );
  let v: ViewValue;
  if (level === "eth" || level === "ip") v = parseL2L3(lw, level, node);
  else if (level === "transport" || level === "transportX")
    v = parseTransport(lw, parsePacket(lw, "ip", node), node, level === "transportX");
  else if (level === "payloadX") v = parsePayload(lw, parsePacket(lw, "transportX", node), node);
  else if (level === "icmp") v = parseIcmp(lw, parsePacket(lw, "ip", node), node);
  else if (level === "vlan" || level === "vlan1" || level === "arp") v = parseL2(lw, level, node);
  else v = parsePayload(lw, parsePacket(lw, "transport", node), node);
  if (lw.dominatesRest) lw.parsed.set(level, v);
  return v;
}

function parseL2L3(lw: LowerHost, level: "eth" | "ip", node: ts.Node): ViewValue {
  const { data, l3 } = packetRegs(lw, node);
  const L2 = l3 ? 0 : ETH_HLEN; // where the IP header starts
  const { nullB, done, finish } = layer(lw, level);
  let et: VReg;
  if (l3) {
    // skb->protocol (16 bits of the member), network order: L3 packets are always an skb's
    et = lw.load(
      { kind: "reg", id: lw.func.ctx },
      contextField(CONTEXTS.__sk_buff, "protocol").offset,
      2,
    );
  } else {
    ethBoundsCheck(lw, data, nullB, node); // packet-headers.ts: done once where it dominates
    et = lw.load({ kind: "reg", id: data }, 12, 2);
  }
  if (level === "eth") {
    const host = lw.vreg();
    lw.emit({ op: "bswap", dst: host, a: reg(et), bits: 16 });
    done(data, host);
    return finish();
  }
  const v4 = lw.newBlock();
  const notV4 = lw.newBlock();
  const v6 = lw.newBlock();
  lw.branch("eq", reg(et), imm(ETH_P_IP_LE), v4, notV4);
  // IPv4: 20 bytes and version 4
  lw.switchTo(v4);
  const p4 = lw.alu("add", reg(data), imm(L2));
  checkBounds(lw, p4, 20, nullB, node);
  const ok4 = lw.newBlock();
  const b0 = lw.load({ kind: "reg", id: p4 }, 0, 1);
  lw.branch("ne", reg(lw.alu("and", reg(b0), imm(0xf0))), imm(0x40), nullB, ok4);
  lw.switchTo(ok4);
  done(p4, { k: 4 });
  // IPv6: 40 bytes and version 6 (extension headers are not followed)
  lw.switchTo(notV4);
  lw.branch("eq", reg(et), imm(ETH_P_IPV6_LE), v6, nullB);
  lw.switchTo(v6);
  const p6 = lw.alu("add", reg(data), imm(L2));
  checkBounds(lw, p6, 40, nullB, node);
  const ok6 = lw.newBlock();
  const c0 = lw.load({ kind: "reg", id: p6 }, 0, 1);
  lw.branch("ne", reg(lw.alu("and", reg(c0), imm(0xf0))), imm(0x60), nullB, ok6);
  lw.switchTo(ok6);
  done(p6, { k: 6 });
  return finish();
}

function parseTransport(lw: LowerHost, ip: ViewValue, node: ts.Node, walk = false): ViewValue {
  const { l3 } = packetRegs(lw, node);
  const L2 = l3 ? 0 : ETH_HLEN;
  const { nullB, done, finish } = layer(lw, "transport", true);
  whenPresent(lw, ip.ptr, nullB);
  const p: Base = { kind: "reg", id: ip.ptr };
  const th = lw.vreg();
  const proto = lw.vreg();
  const off = lw.vreg();
  const v4 = lw.newBlock();
  const v6 = lw.newBlock();
  const l4 = lw.newBlock();
  // The version register is a constant on each path, so the verifier follows one branch.
  lw.branch("eq", reg(ip.aux!), imm(4), v4, v6);
  lw.switchTo(v4);
  const hl = lw.alu("lsh", reg(lw.alu("and", reg(lw.load(p, 0, 1)), imm(0x0f))), imm(2));
  const okHl = lw.newBlock();
  lw.branch("lt", reg(hl), imm(20), nullB, okHl);
  lw.switchTo(okHl);
  lw.emit({ op: "load", dst: proto, base: p, off: 9, size: 1 });
  lw.emit({ op: "alu", alu: "add", dst: th, a: reg(ip.ptr), b: reg(hl) });
  lw.emit({ op: "alu", alu: "add", dst: off, a: reg(hl), b: imm(L2) });
  lw.jump(l4);
  lw.switchTo(v6);
  lw.emit({ op: "load", dst: proto, base: p, off: 6, size: 1 });
  lw.emit({ op: "alu", alu: "add", dst: th, a: reg(ip.ptr), b: imm(40) });
  lw.emit({ op: "mov", dst: off, src: imm(L2 + 40) });
  if (walk) walkIpv6Extensions(lw, th, proto, off, nullB, node); // packet-headers.ts
  lw.jump(l4);

  lw.switchTo(l4);
  const tcp = lw.newBlock();
  const notTcp = lw.newBlock();
  const udp = lw.newBlock();
  lw.branch("eq", reg(proto), imm(6), tcp, notTcp);
  lw.switchTo(tcp);
  checkBounds(lw, th, 20, nullB, node);
  done(th, { k: 6 }, off);
  lw.switchTo(notTcp);
  lw.branch("eq", reg(proto), imm(17), udp, nullB);
  lw.switchTo(udp);
  checkBounds(lw, th, 8, nullB, node);
  done(th, { k: 17 }, off);
  return finish();
}

function parsePayload(lw: LowerHost, t: ViewValue, node: ts.Node): ViewValue {
  const { end } = packetRegs(lw, node);
  const { nullB, done, finish } = layer(lw, "payload");
  whenPresent(lw, t.ptr, nullB);
  const th: Base = { kind: "reg", id: t.ptr };
  const pl = lw.vreg();
  const poff = lw.vreg();
  const tcp = lw.newBlock();
  const udp = lw.newBlock();
  const payload = lw.newBlock();
  lw.branch("eq", reg(t.aux!), imm(6), tcp, udp);
  lw.switchTo(tcp);
  const d12 = lw.load(th, 12, 1);
  const doff = lw.alu("lsh", reg(lw.alu("rsh", reg(d12), imm(4))), imm(2));
  const okD = lw.newBlock();
  lw.branch("lt", reg(doff), imm(20), nullB, okD);
  lw.switchTo(okD);
  lw.emit({ op: "alu", alu: "add", dst: pl, a: reg(t.ptr), b: reg(doff) });
  lw.emit({ op: "alu", alu: "add", dst: poff, a: reg(t.aux2!), b: reg(doff) });
  lw.jump(payload);
  lw.switchTo(udp);
  lw.emit({ op: "alu", alu: "add", dst: pl, a: reg(t.ptr), b: imm(8) });
  lw.emit({ op: "alu", alu: "add", dst: poff, a: reg(t.aux2!), b: imm(8) });
  lw.jump(payload);
  lw.switchTo(payload);
  const okP = lw.newBlock();
  lw.branch("gt", reg(pl), reg(end), nullB, okP);
  lw.switchTo(okP);
  done(pl, poff);
  return finish();
}

/**
 * Which tsbpf/probe header interface declares the property being read (IPv4 vs IPv6, TCP vs
 * UDP), by symbol: the checker's narrowing of `ip`/`t` decides which layout applies.
 */
function declaringInterface(lw: LowerHost, e: ts.Node): string | undefined {
  let prop: ts.Symbol | undefined;
  if (ts.isBindingElement(e)) {
    // `const { saddr } = ip`: the property of the (narrowed) type being destructured
    const key = e.propertyName ?? e.name;
    if (!ts.isIdentifier(key)) return undefined;
    prop = lw.fe.checker.getTypeAtLocation(e.parent).getProperty(key.text);
  } else {
    const name = (e as ts.PropertyAccessExpression).name;
    if (!name) return undefined;
    prop = lw.fe.checker.getSymbolAtLocation(name);
  }
  // On a union that is not narrowed (`IpHeader`), the property's symbol is the checker's union
  // property, declared by every member: each has its own offset, so none may be picked.
  const found = new Set<string | undefined>();
  for (const d of prop?.declarations ?? []) found.add(headerInterface(lw, d.parent));
  if (found.size > 1) return "union";
  return found.values().next().value;
}

function headerInterface(lw: LowerHost, parent: ts.Node): string | undefined {
  if (!ts.isInterfaceDeclaration(parent)) return undefined;
  const sym = lw.fe.checker.getSymbolAtLocation(parent.name);
  for (const iface of ["Ipv4Header", "Ipv6Header", "TcpHeader", "UdpHeader"])
    if (sym !== undefined && lw.fe.probeExports.get(iface) === sym) return iface;
  return undefined;
}

const be = (lw: LowerHost, base: Base, off: number, size: 2 | 4 | 8): Value => {
  const x = lw.load(base, off, size);
  const d = lw.vreg();
  lw.emit({ op: "bswap", dst: d, a: reg(x), bits: (size * 8) as 16 | 32 | 64 });
  return { k: "int", op: reg(d) };
};
const byte = (lw: LowerHost, base: Base, off: number): Value => ({
  k: "int",
  op: reg(lw.load(base, off, 1)),
});

export function lowerViewProperty(lw: LowerHost, v: ViewValue, name: string, e: ts.Node): Value {
  const added = viewProperty(lw, v, name, e); // packet-write.ts: new fields, MACs; stale views
  if (added) return added;
  const p: Base = { kind: "reg", id: v.ptr };
  const iface = declaringInterface(lw, e);
  switch (v.view) {
    case "eth":
      if (name === "protocol") return { k: "int", op: reg(v.aux!) };
      break;
    case "ip":
      if (name === "version") return { k: "int", op: reg(v.aux!) };
      if (iface === "Ipv4Header") {
        switch (name) {
          case "headerLength":
            return {
              k: "int",
              op: reg(lw.alu("lsh", reg(lw.alu("and", reg(lw.load(p, 0, 1)), imm(0x0f))), imm(2))),
            };
          case "tos":
            return byte(lw, p, 1);
          case "totalLength":
            return be(lw, p, 2, 2);
          case "ttl":
            return byte(lw, p, 8);
          case "protocol":
            return byte(lw, p, 9);
          case "saddr":
            return be(lw, p, 12, 4);
          case "daddr":
            return be(lw, p, 16, 4);
        }
      } else if (iface === "Ipv6Header") {
        switch (name) {
          case "payloadLength":
            return be(lw, p, 4, 2);
          case "protocol":
            return byte(lw, p, 6);
          case "hopLimit":
            return byte(lw, p, 7);
          case "saddr":
          case "daddr":
            return {
              k: "view",
              view: "ipv6addr",
              ptr: lw.alu("add", reg(v.ptr), imm(name === "saddr" ? 8 : 24)),
            };
        }
      } else if (iface === "union")
        throw CompileError.at(
          e,
          Code.BadApi,
          `ip.${name} is at a different offset in IPv4 and IPv6 headers: narrow the IP header first, if (ip.version === 4) { … ip.${name} … } (or === 6)`,
        );
      break;
    case "ipv6addr":
      if (name === "hi") return be(lw, p, 0, 8);
      if (name === "lo") return be(lw, p, 8, 8);
      break;
    case "transport":
      if (name === "protocol") return { k: "int", op: reg(v.aux!), strings: TRANSPORT_NAMES };
      if (iface === "TcpHeader") {
        switch (name) {
          case "seq":
            return be(lw, p, 4, 4);
          case "ackSeq":
            return be(lw, p, 8, 4);
          case "flags":
            return byte(lw, p, 13);
          case "window":
            return be(lw, p, 14, 2);
        }
      } else if (iface === "UdpHeader" && name === "length") return be(lw, p, 4, 2);
      else if (iface !== "union") break;
      throw CompileError.at(
        e,
        Code.BadApi,
        `narrow the transport header first: if (t.protocol === "tcp") { … t.${name} … }`,
      );
    case "bytes":
      if (name === "length") return { k: "const", v: v.n };
      break;
    case "payload":
      break;
  }
  throw CompileError.at(e, Code.BadApi, `packet ${v.view} view has no property ${name}`);
}

/** Methods on views: source()/dest(), read(n)/offset()/len(), startsWith/equals/at. */
export function lowerViewMethod(
  lw: LowerHost,
  v: ViewValue,
  method: string,
  args: readonly ts.Expression[],
  e: ts.CallExpression,
  targets?: { t: Block; f: Block },
): Value | "branched" {
  const added = viewMethod(lw, v, method, e); // packet-write.ts: writes, offset(); stale views
  if (added) return added;
  const p: Base = { kind: "reg", id: v.ptr };
  const constArg = (i: number, what: string): unknown => {
    const a = args[i];
    const k = a && lw.mod.consts.eval(a);
    if (k === undefined || typeof k === "symbol")
      throw CompileError.at(
        a ?? e,
        Code.NotConstant,
        `${method}(): ${what} must be a compile-time constant`,
      );
    return k;
  };
  if (v.view === "transport" && (method === "source" || method === "dest"))
    return be(lw, p, method === "source" ? 0 : 2, 2);
  if (v.view === "payload") {
    if (method === "offset") return { k: "int", op: reg(v.aux!) };
    if (method === "len") {
      const { end } = packetRegs(lw, e);
      return { k: "int", op: reg(lw.alu("sub", reg(end), reg(v.ptr))) };
    }
    if (method === "read") {
      if (args[0] && lw.mod.consts.eval(args[0]) === NOT_CONST) return readVariable(lw, v, args, e);
      const n = constArg(0, "the byte count");
      if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 1500)
        throw CompileError.at(
          args[0] ?? e,
          Code.BadApi,
          "read(n): n must be a constant between 1 and 1500",
        );
      const res = lw.vreg();
      const nullB = lw.newBlock();
      const join = lw.newBlock();
      checkBounds(lw, v.ptr, n, nullB, e);
      lw.emit({ op: "mov", dst: res, src: reg(v.ptr) });
      lw.jump(join);
      lw.switchTo(nullB);
      lw.emit({ op: "mov", dst: res, src: imm(0) });
      lw.jump(join);
      lw.switchTo(join);
      return { k: "view", view: "bytes", ptr: res, n };
    }
  }
  if (v.view === "bytes") {
    if (method === "at") {
      if (args[0] && lw.mod.consts.eval(args[0]) === NOT_CONST) return byteAt(lw, v, args[0]);
      const i = constArg(0, "the index");
      if (typeof i === "number" && Number.isFinite(i) && !Number.isInteger(i))
        throw CompileError.at(
          args[0] ?? e,
          Code.Float,
          `floating-point value ${i}: eBPF has only integers`,
        );
      if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i >= v.n!)
        throw CompileError.at(
          args[0] ?? e,
          Code.BadApi,
          `at(i): i must be a constant below ${v.n}`,
        );
      return byte(lw, p, i);
    }
    if (method === "startsWith" || method === "equals") {
      const s = constArg(0, "the literal");
      if (typeof s !== "string")
        throw CompileError.at(args[0] ?? e, Code.BadApi, `${method}() takes a string literal`);
      const bytes = [...s].map((ch) => ch.charCodeAt(0));
      if (bytes.some((b) => b > 0x7f))
        throw CompileError.at(
          args[0]!,
          Code.BadApi,
          `${method}(): only ASCII literals are supported`,
        );
      if (bytes.length > v.n! || (method === "equals" && bytes.length !== v.n))
        throw CompileError.at(
          args[0]!,
          Code.BadApi,
          `${method}(${JSON.stringify(s)}): the literal has ${bytes.length} bytes but only ${v.n} were read; read(${bytes.length}) or more`,
        );
      const own = targets ?? { t: lw.newBlock(), f: lw.newBlock() };
      let o = 0;
      while (o < bytes.length) {
        const n =
          bytes.length - o >= 8 ? 8 : bytes.length - o >= 4 ? 4 : bytes.length - o >= 2 ? 2 : 1;
        let k = 0n;
        for (let i = n - 1; i >= 0; i--) k = (k << 8n) | BigInt(bytes[o + i]!);
        const x = lw.load(p, o, n as 1 | 2 | 4 | 8);
        const next = lw.newBlock();
        lw.branch("ne", reg(x), imm(BigInt.asIntN(64, k)), own.f, next);
        lw.switchTo(next);
        o += n;
      }
      lw.jump(own.t);
      if (targets) return "branched";
      const r = lw.vreg();
      const join = lw.newBlock();
      lw.switchTo(own.t);
      lw.emit({ op: "mov", dst: r, src: imm(1) });
      lw.jump(join);
      lw.switchTo(own.f);
      lw.emit({ op: "mov", dst: r, src: imm(0) });
      lw.jump(join);
      lw.switchTo(join);
      return { k: "int", op: reg(r) };
    }
  }
  throw CompileError.at(e, Code.BadApi, `packet ${v.view} view has no method ${method}()`);
}

/**
 * `bytes.at(i)` with a run-time index (a loop counter of a loop that is not unrolled): the
 * unsigned test `i < n` bounds the register the verifier then adds to the checked pointer.
 * An index outside the bytes read gives 0.
 */
function byteAt(lw: LowerHost, v: ViewValue, arg: ts.Expression): Value {
  const i = lw.int(lw.expr(arg), arg);
  const idx = lw.mov(i); // its own register: the bound learnt from the test stays with it
  const res = lw.vreg();
  const inside = lw.newBlock();
  const outside = lw.newBlock();
  const join = lw.newBlock();
  lw.branch("lt", reg(idx), imm(v.n!), inside, outside);
  lw.switchTo(inside);
  const p = lw.alu("add", reg(v.ptr), reg(idx));
  // The verifier forgets a packet pointer's checked range when a register it does not know the
  // value of is added ("something was added to pkt_ptr, set range to zero"): unless the index
  // is made of kernel loop counters and constants (known exactly on every iteration it walks),
  // the byte is checked against data_end again.
  if (!knownToVerifier(lw, arg)) checkBounds(lw, p, 1, outside, arg);
  lw.emit({ op: "load", dst: res, base: { kind: "reg", id: p }, off: 0, size: 1 });
  lw.jump(join);
  lw.switchTo(outside);
  lw.emit({ op: "mov", dst: res, src: imm(0) });
  lw.jump(join);
  lw.switchTo(join);
  return { k: "int", op: reg(res) };
}

/** True when `e` is built only from constants and counters of kernel loops with `+ - *`. */
function knownToVerifier(lw: LowerHost, e: ts.Expression): boolean {
  if (lw.mod.consts.eval(e) !== NOT_CONST) return true;
  if (ts.isParenthesizedExpression(e)) return knownToVerifier(lw, e.expression);
  if (ts.isIdentifier(e)) {
    const sym = lw.fe.checker.getSymbolAtLocation(e);
    return sym !== undefined && lw.kernelCounters.has(sym);
  }
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    return (
      (op === ts.SyntaxKind.PlusToken ||
        op === ts.SyntaxKind.MinusToken ||
        op === ts.SyntaxKind.AsteriskToken) &&
      knownToVerifier(lw, e.left) &&
      knownToVerifier(lw, e.right)
    );
  }
  return false;
}
