// TypeScript probe → eBPF object. The stages, each in its own module:
//   frontend (type-checked program) → module (top-level declarations) → lower (IR per program)
//   → passes (fold, propagate, DCE) → regalloc → isel (instructions) → emit (ELF + BTF).
import ts from "typescript";
import { createFrontend, lineText, CompileErrors } from "./frontend.js";
import { scanModule, type MapDecl } from "./module.js";
import { Lowerer } from "./lower.js";
import { optimize } from "./passes.js";
import { allocate } from "./regalloc.js";
import { select, type Selected } from "./isel.js";
import { emitObject, type CompiledProgram } from "./emit.js";
import { printFunc } from "./ir.js";
import { CompileError, Code } from "./errors.js";
import type { Insn } from "../obj/insn.js";

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
  maps: MapDecl[];
  license: string;
}

/**
 * Compile one probe file. Throws CompileError (one problem, with file:line:col) or
 * CompileErrors (TypeScript type errors, all of them).
 */
export function compileProbe(entry: string, opts: CompileOptions = {}): CompiledProbe {
  const fe = createFrontend(entry, opts.sources);
  const mod = scanModule(fe);
  const compiled: CompiledProgram[] = [];
  const out: CompiledProbe["programs"] = [];
  for (const prog of mod.programs) {
    const func = new Lowerer(fe, mod, prog).lower();
    optimize(func);
    const alloc = allocate(func);
    const sf = prog.node.getSourceFile();
    const pos = sf.getLineAndCharacterOfPosition(prog.node.getStart(sf));
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
    compiled.push({
      name: prog.name,
      section: prog.section,
      code,
      file: sf.fileName,
      lineText: (l) => lineText(sf, l),
    });
    out.push({
      name: prog.name,
      section: prog.section,
      insns: code.insns,
      stackSize: code.stackSize,
      ...(opts.emitIr ? { ir: printFunc(func) } : {}),
    });
  }
  const elf = emitObject(mod, compiled);
  return { elf, programs: out, maps: mod.maps, license: mod.license };
}

/** Is this error one the compiler reports to users (as opposed to a compiler bug)? */
export function isCompileError(e: unknown): e is CompileError | CompileErrors {
  return e instanceof CompileError || e instanceof CompileErrors;
}

export { ts };
