// Header kinds beyond TCP/UDP (issue 12): ICMP and ICMPv6 (`ctx.icmp()`), and the diagnostic
// that keeps a probe from silently losing its code to a parse that can never succeed.
//
// Why an ICMP probe used to compile to `return PASS`: `ctx.transport()` and `ctx.data()` parse
// TCP and UDP only, and the IP protocol they test is the byte the probe had just compared with
// 1; the optimizer's path facts then prove the view null on every path where the probe's ICMP
// code runs, and drop that code. Now ICMP has its own view, and a transport()/data() call on a
// path where the probe established a protocol other than TCP/UDP is an error saying so.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type Block, type VReg } from "../ir/ir.js";
import type { LowerHost as Lowerer } from "./host.js";
import { checkBounds, layer, packetRegs, whenPresent } from "./packet-base.js";
import type { ParseLevel } from "./packet.js";
import type { ViewValue } from "./values.js";

/** `ctx.icmp()`: ICMP over IPv4 (protocol 1) or ICMPv6 over IPv6 (next header 58), 8 bytes. */
export function parseIcmp(lw: Lowerer, ip: ViewValue, node: ts.Node): ViewValue {
  const { nullB, done, finish } = layer(lw, "icmp");
  whenPresent(lw, ip.ptr, nullB);
  const p = { kind: "reg" as const, id: ip.ptr };
  const v4 = lw.newBlock();
  const v6 = lw.newBlock();
  lw.branch("eq", reg(ip.aux!), imm(4), v4, v6);
  // IPv4: protocol 1, header length from IHL
  lw.switchTo(v4);
  const ok4 = lw.newBlock();
  lw.branch("ne", reg(lw.load(p, 9, 1)), imm(1), nullB, ok4);
  lw.switchTo(ok4);
  const hl = lw.alu("lsh", reg(lw.alu("and", reg(lw.load(p, 0, 1)), imm(0x0f))), imm(2));
  const okHl = lw.newBlock();
  lw.branch("lt", reg(hl), imm(20), nullB, okHl);
  lw.switchTo(okHl);
  const h4: VReg = lw.alu("add", reg(ip.ptr), reg(hl));
  checkBounds(lw, h4, 8, nullB, node);
  done(h4, { k: 1 });
  // IPv6: next header 58 right after the fixed header
  lw.switchTo(v6);
  const ok6 = lw.newBlock();
  lw.branch("ne", reg(lw.load(p, 6, 1)), imm(58), nullB, ok6);
  lw.switchTo(ok6);
  const h6: VReg = lw.alu("add", reg(ip.ptr), imm(40));
  checkBounds(lw, h6, 8, nullB, node);
  done(h6, { k: 58 });
  return finish();
}

// ---- the Ethernet header's bounds check, once ----

/**
 * A flag set to 1 where the first, dominating `data + 14 <= data_end` check passed (0 where it
 * failed). A later parse of the Ethernet header (`ctx.ip()` then `ctx.eth()`) tests the flag
 * instead of comparing `data + 14` with data_end again: that compare's register is also the IP
 * header's pointer, and on its (impossible) failing branch the verifier marks the register as
 * beyond the packet end, rejecting a later write through the IP view on that path.
 */
const ethFlag = new WeakMap<Lowerer, VReg>();

export function ethBoundsCheck(lw: Lowerer, data: VReg, nullB: Block, node: ts.Node): void {
  const flag = ethFlag.get(lw);
  if (flag !== undefined) {
    const ok = lw.newBlock();
    lw.branch("eq", reg(flag), imm(0), nullB, ok);
    lw.switchTo(ok);
    return;
  }
  if (!lw.dominatesRest) {
    checkBounds(lw, data, 14, nullB, node);
    return;
  }
  const f = lw.vreg();
  lw.emit({ op: "mov", dst: f, src: imm(0) });
  checkBounds(lw, data, 14, nullB, node);
  lw.emit({ op: "mov", dst: f, src: imm(1) });
  ethFlag.set(lw, f);
}

/** After a helper that changed packet data: the flag no longer says anything. */
export function forgetEthCheck(lw: Lowerer): void {
  ethFlag.delete(lw);
}

// ---- VLAN tags and ARP ----

/** `ctx.vlan()` / `ctx.vlan(0)`: the outer tag; `ctx.vlan(1)`: the inner one (QinQ). */
export function vlanLevel(lw: Lowerer, e: ts.CallExpression): ParseLevel {
  const a = e.arguments[0];
  if (a === undefined) return "vlan";
  const i = lw.mod.consts.eval(a);
  if (i !== 0 && i !== 1)
    throw CompileError.at(
      a,
      Code.BadApi,
      "vlan(index): index is the constant 0 (the outer tag) or 1 (the inner tag of QinQ)",
    );
  return i === 0 ? "vlan" : "vlan1";
}

const TPID_8021Q = 0x0081; // 0x8100 as the little-endian load of its big-endian bytes
const TPID_8021AD = 0xa888; // 0x88a8
const ETH_P_ARP = 0x0608; // 0x0806

/**
 * VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8) right after the MAC addresses, and ARP for IPv4
 * over Ethernet (hardware type 1, protocol 0x0800, lengths 6 and 4: the fixed layout the view's
 * offsets assume). The view points at the tag's TCI / the ARP header.
 */
export function parseL2(lw: Lowerer, level: "vlan" | "vlan1" | "arp", node: ts.Node): ViewValue {
  const { data } = packetRegs(lw, node);
  const { nullB, done, finish } = layer(lw, level === "arp" ? "arp" : "vlan");
  const p = { kind: "reg" as const, id: data };
  const need = level === "arp" ? 14 + 28 : level === "vlan" ? 18 : 22;
  checkBounds(lw, data, need, nullB, node);
  const tpids = level === "arp" ? [12] : level === "vlan" ? [12] : [12, 16];
  for (const off of tpids) {
    const et = lw.load(p, off, 2);
    const ok = lw.newBlock();
    if (level === "arp") {
      lw.branch("ne", reg(et), imm(ETH_P_ARP), nullB, ok);
    } else {
      const other = lw.newBlock();
      lw.branch("eq", reg(et), imm(TPID_8021Q), ok, other);
      lw.switchTo(other);
      lw.branch("ne", reg(et), imm(TPID_8021AD), nullB, ok);
    }
    lw.switchTo(ok);
  }
  if (level === "arp") {
    // htype 1, ptype 0x0800 (bytes 00 01 08 00), hlen 6, plen 4
    const ok = lw.newBlock();
    lw.branch("ne", reg(lw.load(p, 14, 4)), imm(0x00080100), nullB, ok);
    lw.switchTo(ok);
    const ok2 = lw.newBlock();
    lw.branch("ne", reg(lw.load(p, 18, 2)), imm(0x0406), nullB, ok2);
    lw.switchTo(ok2);
  }
  const at = level === "vlan1" ? 18 : level === "vlan" ? 14 : 14;
  done(lw.alu("add", reg(data), imm(at)), { k: 0 });
  return finish();
}

// ---- transport()/data() where the probe fixed the IP protocol to something else ----

/** `X.protocol` where X is an IP header view: the expression, else undefined. */
function ipProtocolRead(lw: Lowerer, e: ts.Expression): boolean {
  if (!ts.isPropertyAccessExpression(e) || e.name.text !== "protocol") return false;
  const t = lw.fe.checker.getTypeAtLocation(e.expression);
  const parts = t.isUnion() ? t.types : [t];
  return parts.some((p) => {
    const sym = p.aliasSymbol ?? p.getSymbol();
    return (
      sym !== undefined &&
      (lw.fe.probeExports.get("Ipv4Header") === sym || lw.fe.probeExports.get("Ipv6Header") === sym)
    );
  });
}

const strip = (e: ts.Expression): ts.Expression =>
  ts.isParenthesizedExpression(e) ? strip(e.expression) : e;

/**
 * The IP protocol constant that `cond` being `truth` establishes (`ip.protocol === 1` true,
 * `ip.protocol !== 1` false, inside `&&` chains when true and `||` chains when false).
 */
function protocolFact(lw: Lowerer, cond: ts.Expression, truth: boolean): number | undefined {
  const e = strip(cond);
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    if (
      (op === ts.SyntaxKind.AmpersandAmpersandToken && truth) ||
      (op === ts.SyntaxKind.BarBarToken && !truth)
    )
      return protocolFact(lw, e.left, truth) ?? protocolFact(lw, e.right, truth);
    const eq =
      op === ts.SyntaxKind.EqualsEqualsEqualsToken || op === ts.SyntaxKind.EqualsEqualsToken;
    const ne =
      op === ts.SyntaxKind.ExclamationEqualsEqualsToken ||
      op === ts.SyntaxKind.ExclamationEqualsToken;
    if ((eq && truth) || (ne && !truth)) {
      for (const [a, b] of [
        [e.left, e.right],
        [e.right, e.left],
      ] as const)
        if (ipProtocolRead(lw, strip(a))) {
          const k = lw.mod.consts.eval(b);
          if (typeof k === "number") return k;
        }
    }
  }
  if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.ExclamationToken)
    return protocolFact(lw, e.operand, !truth);
  return undefined;
}

/** True when the statement always leaves the enclosing code (return, or a block ending so). */
function exits(s: ts.Statement): boolean {
  if (ts.isReturnStatement(s) || ts.isThrowStatement(s)) return true;
  if (ts.isBlock(s)) return s.statements.length > 0 && exits(s.statements.at(-1)!);
  if (ts.isIfStatement(s))
    return s.elseStatement !== undefined && exits(s.thenStatement) && exits(s.elseStatement);
  return false;
}

/** A protocol the code around `node` established before it runs, and the test's position. */
function establishedProtocol(lw: Lowerer, node: ts.Node): { k: number; at: ts.Node } | undefined {
  let a: ts.Node = node;
  for (let p = a.parent; p && !ts.isSourceFile(p); a = p, p = p.parent) {
    if (ts.isFunctionLike(p)) {
      // The program's own function ends the search; inlined helpers are not followed.
      if (!ts.isArrowFunction(p) && !ts.isFunctionExpression(p)) break;
    }
    if (ts.isIfStatement(p)) {
      const k =
        a === p.thenStatement
          ? protocolFact(lw, p.expression, true)
          : a === p.elseStatement
            ? protocolFact(lw, p.expression, false)
            : undefined;
      if (k !== undefined) return { k, at: p.expression };
    }
    if (ts.isConditionalExpression(p)) {
      const k =
        a === p.whenTrue
          ? protocolFact(lw, p.condition, true)
          : a === p.whenFalse
            ? protocolFact(lw, p.condition, false)
            : undefined;
      if (k !== undefined) return { k, at: p.condition };
    }
    if (
      ts.isBinaryExpression(p) &&
      a === p.right &&
      (p.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken ||
        p.operatorToken.kind === ts.SyntaxKind.BarBarToken)
    ) {
      const k = protocolFact(
        lw,
        p.left,
        p.operatorToken.kind === ts.SyntaxKind.AmpersandAmpersandToken,
      );
      if (k !== undefined) return { k, at: p.left };
    }
    if (ts.isBlock(p)) {
      // Guards before this statement: `if (ip.protocol !== 1) return …;`
      const i = p.statements.indexOf(a as ts.Statement);
      for (let j = i - 1; j >= 0; j--) {
        const s = p.statements[j]!;
        if (ts.isIfStatement(s) && !s.elseStatement && exits(s.thenStatement)) {
          const k = protocolFact(lw, s.expression, false);
          if (k !== undefined) return { k, at: s.expression };
        }
      }
    }
  }
  return undefined;
}

/**
 * `ctx.transport()` / `ctx.data()` where the probe has just established an IP protocol other
 * than TCP or UDP: the parse is null on every path there, and the optimizer would drop the
 * code after it without a word.
 */
export function warnNotTransport(lw: Lowerer, what: string, node: ts.Node): void {
  const f = establishedProtocol(lw, node);
  if (!f || f.k === 6 || f.k === 17) return;
  const sf = f.at.getSourceFile();
  const line = sf.getLineAndCharacterOfPosition(f.at.getStart(sf)).line + 1;
  throw CompileError.at(
    node,
    Code.BadApi,
    `${what} is always null here: line ${line} established IP protocol ${f.k}, and ${what} parses TCP (6) and UDP (17) only${
      f.k === 1 || f.k === 58
        ? `; an ${f.k === 1 ? "ICMP" : "ICMPv6"} header is ctx.icmp() (type, code, checksum, id, sequence)`
        : "; tsbpf has no view of this protocol's header yet"
    }`,
  );
}

// ---- read(n) with a run-time n ----

/**
 * `d.read(n, max)` with a run-time `n`: the bytes `[0, n)` of the payload, null when `n > max`
 * (unsigned: a negative n too) or the packet is shorter. The view's length is the register `n`;
 * the verifier learns nothing about the start pointer from a variable-length check, so every
 * access checks its own end against data_end (one compare each).
 */
export function readVariable(
  lw: Lowerer,
  v: ViewValue,
  args: readonly ts.Expression[],
  e: ts.Node,
): ViewValue {
  const max = args[1] && lw.mod.consts.eval(args[1]);
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > 1500)
    throw CompileError.at(
      args[1] ?? e,
      Code.BadApi,
      "read(n) with a run-time n needs its largest value, a constant between 1 and 1500: read(n, 64) (null when n > 64 or the packet is shorter)",
    );
  const { end } = packetRegs(lw, e);
  const n = lw.mov(lw.int(lw.expr(args[0]!), args[0]!));
  const res = lw.vreg();
  const len = lw.vreg();
  const nullB = lw.newBlock();
  const join = lw.newBlock();
  const ok1 = lw.newBlock();
  lw.branch("gt", reg(n), imm(max), nullB, ok1);
  lw.switchTo(ok1);
  const q = lw.alu("add", reg(v.ptr), reg(n));
  const ok2 = lw.newBlock();
  lw.branch("gt", reg(q), reg(end), nullB, ok2);
  lw.switchTo(ok2);
  lw.emit({ op: "mov", dst: res, src: reg(v.ptr) });
  lw.emit({ op: "mov", dst: len, src: reg(n) });
  lw.jump(join);
  lw.switchTo(nullB);
  lw.emit({ op: "mov", dst: res, src: imm(0) });
  lw.emit({ op: "mov", dst: len, src: imm(0) });
  lw.jump(join);
  lw.switchTo(join);
  return { k: "view", view: "vbytes", ptr: res, aux: len, n: max };
}

/** Methods and `length` of a run-time-length read. */
export function variableBytes(
  lw: Lowerer,
  v: ViewValue,
  what: string,
  args: readonly ts.Expression[] | undefined,
  e: ts.Node,
): import("./values.js").Value | undefined {
  const len = v.aux!;
  if (args === undefined) return what === "length" ? { k: "int", op: reg(len) } : undefined;
  const p = { kind: "reg" as const, id: v.ptr };
  if (what === "at") {
    const a = args[0];
    if (!a) throw CompileError.at(e, Code.BadApi, "at(i) needs the index");
    const k = lw.mod.consts.eval(a);
    const res = lw.vreg();
    const inside = lw.newBlock();
    const outside = lw.newBlock();
    const join = lw.newBlock();
    if (typeof k === "number" && Number.isInteger(k) && k >= 0 && k < v.n!) {
      lw.branch("le", reg(len), imm(k), outside, inside);
      lw.switchTo(inside);
      checkBounds(lw, v.ptr, k + 1, outside, a);
      lw.emit({ op: "load", dst: res, base: p, off: k, size: 1 });
    } else {
      const idx = lw.mov(lw.int(lw.expr(a), a));
      lw.branch("ge", reg(idx), reg(len), outside, inside);
      lw.switchTo(inside);
      const q = lw.alu("add", reg(v.ptr), reg(idx));
      checkBounds(lw, q, 1, outside, a);
      lw.emit({ op: "load", dst: res, base: { kind: "reg", id: q }, off: 0, size: 1 });
    }
    lw.jump(join);
    lw.switchTo(outside);
    lw.emit({ op: "mov", dst: res, src: imm(0) });
    lw.jump(join);
    lw.switchTo(join);
    return { k: "int", op: reg(res) };
  }
  if (what === "startsWith" || what === "equals") {
    const s = args[0] && lw.mod.consts.eval(args[0]);
    if (typeof s !== "string" || [...s].some((c) => c.charCodeAt(0) > 0x7f) || s.length === 0)
      throw CompileError.at(args[0] ?? e, Code.BadApi, `${what}() takes a non-empty ASCII literal`);
    const L = s.length;
    const r = lw.vreg();
    const no = lw.newBlock();
    const join = lw.newBlock();
    const ok = lw.newBlock();
    lw.branch(what === "equals" ? "ne" : "lt", reg(len), imm(L), no, ok);
    lw.switchTo(ok);
    checkBounds(lw, v.ptr, L, no, e);
    for (let o = 0; o < L;) {
      const n = L - o >= 4 ? 4 : L - o >= 2 ? 2 : 1;
      let word = 0n;
      for (let i = n - 1; i >= 0; i--) word = (word << 8n) | BigInt(s.charCodeAt(o + i));
      const next = lw.newBlock();
      lw.branch("ne", reg(lw.load(p, o, n as 1 | 2 | 4)), imm(word), no, next);
      lw.switchTo(next);
      o += n;
    }
    lw.emit({ op: "mov", dst: r, src: imm(1) });
    lw.jump(join);
    lw.switchTo(no);
    lw.emit({ op: "mov", dst: r, src: imm(0) });
    lw.jump(join);
    lw.switchTo(join);
    return { k: "int", op: reg(r) };
  }
  return undefined;
}

// ---- IPv6 extension headers ----

/** `ctx.transport({ ipv6Extensions: true })` / `ctx.data({ … })`: walk extension headers. */
export function withExtensions(lw: Lowerer, e: ts.CallExpression): boolean {
  const a = e.arguments[0];
  const m = (e.expression as ts.PropertyAccessExpression).name?.text;
  if (!a || (m !== "transport" && m !== "data")) return false;
  const o = lw.mod.consts.eval(a);
  if (typeof o !== "object" || o === null || Object.keys(o).some((k) => k !== "ipv6Extensions"))
    throw CompileError.at(
      a,
      Code.BadApi,
      `${m}(options): the options are a constant { ipv6Extensions: true }`,
    );
  return (o as { ipv6Extensions?: unknown }).ipv6Extensions === true;
}

/** At most this many extension headers are skipped (then the parse is null). */
export const MAX_IPV6_EXTENSIONS = 4;

/**
 * Skip IPv6 extension headers between the fixed header and the upper-layer header: hop-by-hop
 * (0), routing (43) and destination options (60) are `(hdr[1] + 1) * 8` bytes, authentication
 * (51) `(hdr[1] + 2) * 4`, fragment (44) 8 bytes — a fragment other than the first has no
 * upper-layer header, so the parse is null there. Unrolled MAX_IPV6_EXTENSIONS times; each step
 * checks its 8 bytes against data_end before reading them, and the lengths it adds are bounded
 * (at most 2,048), so the verifier follows the variable offset.
 */
export function walkIpv6Extensions(
  lw: Lowerer,
  th: VReg,
  proto: VReg,
  off: VReg,
  nullB: Block,
  node: ts.Node,
): void {
  const done = lw.newBlock();
  for (let k = 0; k < MAX_IPV6_EXTENSIONS; k++) {
    const opts = lw.newBlock();
    const notOpts = lw.newBlock();
    const frag = lw.newBlock();
    const notFrag = lw.newBlock();
    const ah = lw.newBlock();
    const step = lw.newBlock();
    const next = lw.newBlock();
    const len = lw.vreg();
    // 0, 43, 60: options-like
    const t1 = lw.newBlock();
    const t2 = lw.newBlock();
    lw.branch("eq", reg(proto), imm(0), opts, t1);
    lw.switchTo(t1);
    lw.branch("eq", reg(proto), imm(43), opts, t2);
    lw.switchTo(t2);
    lw.branch("eq", reg(proto), imm(60), opts, notOpts);
    lw.switchTo(opts);
    checkBounds(lw, th, 8, nullB, node);
    const l1 = lw.load({ kind: "reg", id: th }, 1, 1);
    lw.emit({ op: "alu", alu: "add", dst: len, a: reg(l1), b: imm(1) });
    lw.emit({ op: "alu", alu: "lsh", dst: len, a: reg(len), b: imm(3) });
    lw.jump(step);
    lw.switchTo(notOpts);
    lw.branch("eq", reg(proto), imm(44), frag, notFrag);
    lw.switchTo(frag);
    checkBounds(lw, th, 8, nullB, node);
    const fo = lw.load({ kind: "reg", id: th }, 2, 2); // fragment offset, little-endian load
    const first = lw.newBlock();
    lw.branch("set", reg(fo), imm(0xf8ff), nullB, first); // offset bits of 0xfff8 (big-endian)
    lw.switchTo(first);
    lw.emit({ op: "mov", dst: len, src: imm(8) });
    lw.jump(step);
    lw.switchTo(notFrag);
    lw.branch("eq", reg(proto), imm(51), ah, done);
    lw.switchTo(ah);
    checkBounds(lw, th, 8, nullB, node);
    const l2 = lw.load({ kind: "reg", id: th }, 1, 1);
    lw.emit({ op: "alu", alu: "add", dst: len, a: reg(l2), b: imm(2) });
    lw.emit({ op: "alu", alu: "lsh", dst: len, a: reg(len), b: imm(2) });
    lw.jump(step);
    lw.switchTo(step);
    lw.emit({ op: "load", dst: proto, base: { kind: "reg", id: th }, off: 0, size: 1 });
    lw.emit({ op: "alu", alu: "add", dst: th, a: reg(th), b: reg(len) });
    lw.emit({ op: "alu", alu: "add", dst: off, a: reg(off), b: reg(len) });
    lw.jump(next);
    lw.switchTo(next);
  }
  lw.jump(done);
  lw.switchTo(done);
}
