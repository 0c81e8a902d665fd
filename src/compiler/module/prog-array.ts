// A ProgArray's initial slots, declared with the map:
//   const jumps = map("jumps", new ProgArray({ maxEntries: 4, values: [tcpPart, udpPart] }));
// (or `values: { 2: udpPart }` for sparse slots). The object carries them as libbpf's
// `.values = { [i] = &prog }` does: a zero-length `values` array member closing the map's BTF
// definition and one R_BPF_64_ABS64 relocation per slot in `.rel.maps` against the program's
// symbol. libbpf, bpftool and tsbpf's loader store each program's fd in its slot after loading
// the programs, so a tail-call dispatcher works under `tsbpf load` with nothing in user space.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { canonical } from "../frontend/typecheck.js";
import { NOT_CONST, type ConstEvaluator, type ConstResult } from "./consteval.js";
import type { MapDecl, ProgramDecl } from "./scan.js";

/** A slot as written: its index and the expression naming the program. */
export interface ProgSlotRef {
  index: number;
  ref: ts.Expression;
}

/**
 * Evaluate a ProgArray's options object: every property but `values` must be a constant;
 * `values` is an array literal (holes and `null` leave a slot empty) or an object literal with
 * integer keys, of program identifiers.
 */
export function progArrayOptions(
  consts: ConstEvaluator,
  node: ts.Expression,
  mapName: string,
): { v: ConstResult; slots: ProgSlotRef[] } {
  let e = node;
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e))
    e = e.expression;
  if (!ts.isObjectLiteralExpression(e)) return { v: consts.eval(node), slots: [] };
  const out: Record<string, unknown> = {};
  const slots: ProgSlotRef[] = [];
  for (const p of e.properties) {
    const key =
      p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : "";
    if (key === "values" && ts.isPropertyAssignment(p)) {
      slots.push(...slotRefs(p.initializer, mapName));
      continue;
    }
    const v =
      ts.isPropertyAssignment(p) && key !== ""
        ? consts.eval(p.initializer)
        : ts.isShorthandPropertyAssignment(p)
          ? consts.eval(p.name)
          : NOT_CONST;
    if (v === NOT_CONST) return { v: NOT_CONST, slots };
    out[key] = v;
  }
  return { v: out, slots };
}

function slotRefs(init: ts.Expression, mapName: string): ProgSlotRef[] {
  const bad = (at: ts.Node, why: string): never => {
    throw CompileError.at(
      at,
      Code.BadApi,
      `map "${mapName}": ${why}; write values: [progA, progB] or values: { 0: progA, 3: progB } with programs declared above the map (export const progA = xdp(…))`,
    );
  };
  const slot = (index: number, ref: ts.Expression): ProgSlotRef[] =>
    ref.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(ref) && ref.text === "undefined")
      ? []
      : [{ index, ref }];
  if (ts.isArrayLiteralExpression(init))
    return init.elements.flatMap((el, i) =>
      ts.isOmittedExpression(el)
        ? []
        : ts.isSpreadElement(el)
          ? bad(el, "spread is not supported in values")
          : slot(i, el),
    );
  if (ts.isObjectLiteralExpression(init))
    return init.properties.flatMap((p) => {
      if (!ts.isPropertyAssignment(p) || !ts.isNumericLiteral(p.name))
        return bad(p, "the keys of values must be slot numbers");
      const index = Number(p.name.text);
      if (!Number.isInteger(index) || index < 0)
        return bad(p.name, "a slot number is an integer ≥ 0");
      return slot(index, p.initializer);
    });
  return bad(init, "values must be an array or object literal of programs");
}

/** Resolve each slot to a program of the module (by its symbol), and check the slots. */
export function resolveProgSlots(
  checker: ts.TypeChecker,
  map: MapDecl,
  refs: readonly ProgSlotRef[],
  programs: readonly ProgramDecl[],
): { index: number; program: string }[] {
  const out: { index: number; program: string; kind: string }[] = [];
  for (const { index, ref } of refs) {
    const sym0 = ts.isIdentifier(ref) ? checker.getSymbolAtLocation(ref) : undefined;
    const decl = sym0 && canonical(checker, sym0).valueDeclaration;
    const prog =
      decl && ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name)
        ? programs.find(
            (p) => p.name === (decl.name as ts.Identifier).text && p.node === decl.initializer,
          )
        : undefined;
    if (!prog)
      throw CompileError.at(
        ref,
        Code.BadApi,
        `map "${map.name}": values must name programs of this file (export const p = xdp(…)); ${ref.getText()} is not one`,
      );
    if (map.maxEntries !== undefined && index >= map.maxEntries)
      throw CompileError.at(
        ref,
        Code.BadApi,
        `map "${map.name}": slot ${index} is past maxEntries (${map.maxEntries})`,
      );
    if (out.some((s) => s.index === index))
      throw CompileError.at(ref, Code.BadApi, `map "${map.name}": slot ${index} is given twice`);
    const first = out[0];
    if (first && first.kind !== prog.kind)
      throw CompileError.at(
        ref,
        Code.BadApi,
        `map "${map.name}": ${prog.name} is a ${prog.kind} program but ${first.program} is ${first.kind}; the kernel tail-calls only between programs of one type`,
      );
    out.push({ index, program: prog.name, kind: prog.kind });
  }
  return out.map(({ index, program }) => ({ index, program }));
}
