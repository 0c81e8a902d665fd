// TypeScript probe → eBPF object: runs the stages for each program, nothing else.
//   frontend/ (type-checked program) → module/ (top-level declarations) → lower/ (IR per
//   program) → optimize (pipeline.ts: the pass order and its checked constraints) →
//   backend/regalloc → backend/isel (instructions) → backend/emit (ELF + BTF).
// Stages import only earlier stages and ir/, errors.ts, limits.ts (test/unit/compiler/pipeline.test.ts).
import ts from "typescript";
import { createFrontend, lineText, CompileErrors } from "./frontend/typecheck.js";
import { scanModule, type MapDecl, type ProgramDecl } from "./module/scan.js";
import { Lowerer } from "./lower/lowerer.js";
import { Subprograms, type Subprogram } from "./lower/subprograms.js";
import type { Func } from "./ir/ir.js";
import { optimize } from "./pipeline.js";
import { allocate } from "./backend/regalloc.js";
import { select, type Selected } from "./backend/isel.js";
import { emitObject, type CompiledProgram } from "./backend/emit.js";
import { printFunc } from "./ir/ir.js";
import { CompileError, Code } from "./errors.js";
import type { Insn } from "../obj/insn.js";
import { resolve } from "node:path";
import { isStackOverflow, MAX_STACK } from "./limits.js";
import { checkLicense } from "./lower/license.js";

export { CompileError, CompileErrors, Code };
export { formatDiagnostic, type Diagnostic } from "./errors.js";

export interface CompileOptions {
  /** in-memory sources by absolute path (tests, fuzzing); other files come from disk */
  sources?: ReadonlyMap<string, string>;
  /** keep the optimised IR text of each program */
  emitIr?: boolean;
}

export interface CompiledProbe {
  /** the ELF object */
  elf: Uint8Array;
  programs: { name: string; section: string; insns: Insn[]; ir?: string; stackSize: number }[];
  /** local functions compiled as bpf-to-bpf subprograms (section .text) */
  subprograms: { name: string; insns: Insn[]; stackSize: number; ir?: string }[];
  maps: MapDecl[];
  license: string;
}

/**
 * Compile one probe file. Throws CompileError (one problem, with file:line:col) or
 * CompileErrors (TypeScript type errors, all of them).
 */
export function compileProbe(entry: string, opts: CompileOptions = {}): CompiledProbe {
  try {
    return compile(entry, opts);
  } catch (e) {
    // A last resort: the nesting limit (limits.ts) is checked before anything recursive runs.
    if (isStackOverflow(e))
      throw new CompileError(
        Code.Limit,
        "the program is nested too deeply or too large to compile (the compiler ran out of stack); split deep expressions and nested statements into smaller functions or local constants",
        resolve(entry),
        1,
        1,
      );
    throw e;
  }
}

function compile(entry: string, opts: CompileOptions): CompiledProbe {
  const fe = createFrontend(entry, opts.sources);
  const mod = scanModule(fe);
  const compiled: CompiledProgram[] = [];
  const out: CompiledProbe["programs"] = [];
  const subs = new Subprograms(fe, mod);
  const subOut: CompiledProbe["subprograms"] = [];
  const textOf = (file: string, line: number): string => {
    const sf = fe.program.getSourceFile(file);
    return sf ? lineText(sf, line) : "";
  };
  const units: {
    prog: ProgramDecl;
    lower: () => Func;
    sub?: Subprogram;
    callback?: string;
  }[] = mod.programs.map((prog) => ({
    prog,
    lower: () => new Lowerer(fe, mod, prog, subs).lower(),
  }));
  for (let u = units.shift(); u; u = units.shift()) {
    const { prog, sub, callback } = u;
    const func = u.lower();
    // bpf_loop callbacks lowered with it (lower/bpf-loop.ts) compile right after it
    for (let c = subs.nextCallback(); c; c = subs.nextCallback()) {
      const cb = c;
      units.unshift({ prog: cb.prog, lower: () => cb.func, callback: cb.name });
    }
    if (units.length === 0)
      for (let s = subs.next(); s; s = subs.next()) {
        const decl = s.decl;
        const name = s.name;
        units.push({
          prog: { ...s.prog, node: decl },
          lower: () => new Lowerer(fe, mod, s.prog, subs).lowerSubprogram(decl, name),
          sub: s,
        });
      }
    optimize(func);
    const sf = prog.node.getSourceFile();
    const pos = sf.getLineAndCharacterOfPosition(prog.node.getStart(sf));
    checkLicense(func, mod.license, {
      file: sf.fileName,
      line: pos.line + 1,
      col: pos.character + 1,
    });
    const alloc = allocate(func);
    let code: Selected;
    try {
      code = select(func, alloc, { file: sf.fileName, line: pos.line + 1, col: pos.character + 1 });
    } catch (e) {
      if (e instanceof CompileError) throw e;
      throw e;
    }
    if (code.insns.length > 1_000_000)
      throw CompileError.at(
        prog.node,
        Code.Limit,
        `program ${prog.name} has ${code.insns.length} instructions; the kernel accepts at most 1,000,000`,
      );
    if (callback !== undefined) {
      compiled.push({ name: callback, section: ".text", code, lineText: textOf, callback: true });
      subOut.push({ name: callback, insns: code.insns, stackSize: code.stackSize });
      continue;
    }
    if (sub) {
      compiled.push({
        name: sub.name,
        section: ".text",
        code,
        lineText: textOf,
        params: sub.decl.parameters.map((p) => p.name.getText()),
      });
      subOut.push({
        name: sub.name,
        insns: code.insns,
        stackSize: code.stackSize,
        ...(opts.emitIr ? { ir: printFunc(func) } : {}),
      });
      continue;
    }
    compiled.push({
      name: prog.name,
      section: prog.section,
      code,
      lineText: textOf,
    });
    out.push({
      name: prog.name,
      section: prog.section,
      insns: code.insns,
      stackSize: code.stackSize,
      ...(opts.emitIr ? { ir: printFunc(func) } : {}),
    });
  }
  subs.checkRecursion();
  checkCallStacks(mod.programs, compiled, subs);
  const elf = emitObject(mod, compiled);
  return { elf, programs: out, subprograms: subOut, maps: mod.maps, license: mod.license };
}

/**
 * The verifier adds up the frames of a call chain (each rounded up to 32 bytes) and refuses
 * more than 512 bytes in total; report it here, at the program.
 */
function checkCallStacks(
  progs: readonly ProgramDecl[],
  compiled: readonly CompiledProgram[],
  subs: Subprograms,
): void {
  const size = new Map(compiled.map((c) => [c.name, Math.ceil(c.code.stackSize / 32) * 32]));
  const deepest = (n: string): number =>
    (size.get(n) ?? 0) + Math.max(0, ...[...(subs.callees.get(n) ?? [])].map(deepest));
  for (const p of progs) {
    const c = compiled.find((x) => x.name === p.name && !x.params && !x.callback);
    if (!c) continue;
    const callees = new Set([
      ...c.code.callRelocs.map((r) => r.fn),
      ...c.code.funcRelocs.map((r) => r.fn),
    ]);
    const total = (size.get(p.name) ?? 0) + Math.max(0, ...[...callees].map(deepest));
    if (total > MAX_STACK)
      throw CompileError.at(
        p.node,
        Code.StackTooLarge,
        `program ${p.name} and the functions it calls need ${total} bytes of stack together; eBPF allows ${MAX_STACK} per call chain. Mark a function /** @inline */ or keep large values in a map`,
      );
  }
}

/** Is this error one the compiler reports to users (as opposed to a compiler bug)? */
export function isCompileError(e: unknown): e is CompileError | CompileErrors {
  return e instanceof CompileError || e instanceof CompileErrors;
}

export { ts };
