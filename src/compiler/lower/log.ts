// ``log.info`conn from ${ip.saddr} port ${t.dest()}` `` (issue 14), lowered to
//   if (tsbpf_log_level >= INFO) {                      // one load and a branch when disabled
//     rec = bpf_ringbuf_reserve(&tsbpf_log, SIZE, 0);
//     if (rec) { rec->id = ID; rec->a0 = …; …; bpf_ringbuf_submit(rec, 0); }
//     else __sync_fetch_and_add(&tsbpf_log_drops, 1);
//   }
// The format (literal parts, argument kinds and offsets, level, file:line) is recorded once in
// the module's log table (module/log.ts) under ID and written to `.tsbpf.log`
// (obj/log-section.ts); the arguments are evaluated only when the level lets the log through.
import ts from "typescript";
import { basename } from "node:path";
import { array, u8, type Type } from "../../types/index.js";
import { helperIds } from "../../obj/helpers.js";
import {
  LOG_DROPS_GLOBAL,
  LOG_LEVEL_GLOBAL,
  LOG_LEVELS,
  LOG_MAP,
  levelNumber,
  type LogArg,
  type LogArgKind,
  type LogFormat,
  type LogLevel,
} from "../../obj/log-section.js";
import { canonical } from "../frontend/typecheck.js";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type Operand } from "../ir/ir.js";
import type { LowerHost } from "./host.js";
import { VOID, type Value } from "./values.js";

const Helper = helperIds(["ringbuf_reserve", "ringbuf_submit"]);

/** Interfaces of tsbpf/probe whose number-typed members are IPv4 addresses. */
const IPV4_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  Ipv4Header: ["saddr", "daddr"],
  ArpHeader: ["senderIp", "targetIp"],
};

interface Arg {
  kind: LogArgKind;
  size: number;
  /** an integer to store, or memory (an address, a byte array) to copy */
  int?: Operand;
  value?: Value;
  node: ts.Node;
}

export function lowerLog(lw: LowerHost, e: ts.TaggedTemplateExpression): Value {
  const tag = e.tag as ts.PropertyAccessExpression;
  const level = tag.name.text as LogLevel;
  if (!LOG_LEVELS.includes(level))
    throw CompileError.at(tag.name, Code.BadApi, `log levels are ${LOG_LEVELS.join(", ")}`);
  const table = lw.mod.log;
  if (!table) throw new Error("internal: a log call in a module that declared no log");
  const tpl = e.template;
  const text: string[] = [ts.isNoSubstitutionTemplateLiteral(tpl) ? tpl.text : tpl.head.text];
  const exprs = ts.isNoSubstitutionTemplateLiteral(tpl) ? [] : tpl.templateSpans;

  // The level test: a disabled log evaluates none of its arguments.
  const g = lw.vreg();
  lw.emit({ op: "global", dst: g, symbol: LOG_LEVEL_GLOBAL });
  const cur = lw.load({ kind: "reg", id: g }, 0, 4);
  const on = lw.newBlock();
  const done = lw.newBlock();
  lw.branch("ge", reg(cur), imm(levelNumber(level)), on, done);
  lw.switchTo(on);
  lw.nested(() => {
    const args: Arg[] = [];
    for (const span of exprs) {
      const a = classify(lw, span.expression);
      if (a === undefined) text[text.length - 1] += constText(lw, span.expression);
      else args.push(a);
      if (a === undefined) text[text.length - 1] += span.literal.text;
      else text.push(span.literal.text);
    }
    // layout: u64 id, then each argument at an offset aligned to 8 (4 for an IPv4 address)
    let off = 8;
    const layout: LogArg[] = args.map((a) => {
      const align = a.kind === "ipv4" ? 4 : 8;
      off = Math.ceil(off / align) * align;
      const l = { kind: a.kind, offset: off, size: a.size };
      off += a.size;
      return l;
    });
    const size = Math.ceil(off / 8) * 8;
    if (size > 4096)
      throw CompileError.at(e, Code.BadApi, `a log record of ${size} bytes: at most 4096`);
    const sf = e.getSourceFile();
    const format: LogFormat = {
      level,
      text,
      args: layout,
      size,
      file: basename(sf.fileName),
      line: sf.getLineAndCharacterOfPosition(e.getStart(sf)).line + 1,
    };
    const key = JSON.stringify(format);
    let id = table.ids.get(key);
    if (id === undefined) {
      id = table.formats.length;
      table.formats.push(format);
      table.ids.set(key, id);
    }

    const fd = lw.vreg();
    lw.emit({ op: "mapfd", dst: fd, map: LOG_MAP });
    const rec = lw.vreg();
    lw.emit({
      op: "call",
      dst: rec,
      helper: Helper.ringbuf_reserve,
      args: [reg(fd), imm(size), imm(0)],
    });
    lw.releaseTemps();
    const fill = lw.newBlock();
    const full = lw.newBlock();
    lw.branch("ne", reg(rec), imm(0), fill, full);

    lw.switchTo(full);
    const drops = lw.vreg();
    lw.emit({ op: "global", dst: drops, symbol: LOG_DROPS_GLOBAL });
    lw.emit({ op: "atomicAdd", base: { kind: "reg", id: drops }, off: 0, size: 8, value: imm(1) });
    lw.jump(done);

    lw.switchTo(fill);
    const base = { kind: "reg" as const, id: rec };
    lw.emit({ op: "store", base, off: 0, size: 8, value: imm(id) });
    args.forEach((a, i) => {
      const at = layout[i]!.offset;
      if (a.int) {
        lw.emit({ op: "store", base, off: at, size: a.size as 4 | 8, value: a.int });
        return;
      }
      const type: Type = array(u8, a.size);
      lw.storeValue(
        { k: "ref", base, off: at, type, nullable: false, readonly: false },
        a.value!,
        a.node,
      );
    });
    lw.emit({
      op: "call",
      dst: undefined,
      helper: Helper.ringbuf_submit,
      args: [reg(rec), imm(0)],
    });
    lw.releaseTemps();
    lw.jump(done);
  });
  lw.switchTo(done);
  return VOID;
}

/** A constant argument's text, folded into the format. */
function constText(lw: LowerHost, x: ts.Expression): string {
  const v = lw.mod.consts.eval(x);
  return typeof v === "bigint" || typeof v === "number" || typeof v === "boolean"
    ? String(typeof v === "boolean" ? Number(v) : v)
    : String(v);
}

/** How an argument is recorded; undefined for a constant (folded into the text). */
function classify(lw: LowerHost, x: ts.Expression): Arg | undefined {
  const k = lw.mod.consts.eval(x);
  if (
    typeof k === "string" ||
    typeof k === "number" ||
    typeof k === "bigint" ||
    typeof k === "boolean"
  )
    return undefined;
  if (ts.isCallExpression(x)) {
    const api = lw.mod.consts.apiName(x.expression);
    if (api?.module === "probe" && (api.name === "ipv4" || api.name === "hex")) {
      const a = x.arguments[0];
      if (!a || x.arguments.length !== 1)
        throw CompileError.at(x, Code.BadApi, `${api.name}(value) takes one integer`);
      const op = lw.int(lw.expr(a), a);
      return api.name === "ipv4"
        ? { kind: "ipv4", size: 4, int: op, node: x }
        : { kind: "hex", size: 8, int: op, node: x };
    }
  }
  const v = lw.expr(x);
  if (v.k === "view" && v.view === "ipv6addr") return { kind: "ipv6", size: 16, value: v, node: x };
  if (v.k === "view" && v.view === "mac") return { kind: "mac", size: 6, value: v, node: x };
  if (v.k === "ref" && v.type.kind === "array") {
    const el = v.type.element;
    if (el.kind === "int" && el.size === 1)
      return { kind: "str", size: v.type.length, value: v, node: x };
    throw CompileError.at(
      x,
      Code.BadApi,
      `log: cannot print ${v.type.label}; log its elements, or a u8 array as a string`,
    );
  }
  if (v.k === "ref" && v.type.kind === "struct")
    throw CompileError.at(
      x,
      Code.BadApi,
      `log: cannot print a whole ${v.type.label}: log its fields (\${s.a} \${s.b})`,
    );
  const unsigned =
    (v.k === "int" && v.u64 === true) ||
    (v.k === "ref" && v.type.kind === "int" && v.type.size === 8 && !v.type.signed);
  const op = lw.int(v, x);
  if (isIpv4Member(lw, x)) return { kind: "ipv4", size: 4, int: op, node: x };
  return { kind: unsigned ? "uint" : "int", size: 8, int: op, node: x };
}

function isIpv4Member(lw: LowerHost, x: ts.Expression): boolean {
  while (ts.isParenthesizedExpression(x) || ts.isNonNullExpression(x)) x = x.expression;
  if (!ts.isPropertyAccessExpression(x)) return false;
  const sym = lw.fe.checker.getSymbolAtLocation(x.name);
  const decl = sym?.declarations?.[0];
  const owner = decl?.parent;
  if (!owner || !ts.isInterfaceDeclaration(owner)) return false;
  const members = IPV4_MEMBERS[owner.name.text];
  if (!members?.includes(x.name.text)) return false;
  const os = lw.fe.checker.getSymbolAtLocation(owner.name);
  return (
    os !== undefined && lw.fe.probeExports.get(owner.name.text) === canonical(lw.fe.checker, os)
  );
}
