// Which local functions become real bpf-to-bpf calls (subprograms in `.text`) instead of being
// inlined, and the queue of those still to compile.
//
// The rule (docs/probe-language.md, "Functions"): a top-level `function` declaration whose
// parameters (at most five) and result are integers (number, bigint, boolean; void result) is
// called, not inlined, when it is large (at least CALL_MIN_NODES syntax nodes) or when it is
// medium-sized (SHARED_MIN_NODES) and called from two or more places (in any of the probe's
// modules: a function of an imported module follows the same rule). `/** @noinline */` asks
// for a call (an error when the function does not qualify), `/** @inline */` forbids it.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { canonical, type Frontend } from "../frontend/typecheck.js";
import { probeFiles } from "../module/imports.js";
import type { ProbeModule, ProgramDecl } from "../module/scan.js";
import type { Func } from "../ir/ir.js";

export const CALL_MIN_NODES = 120;
export const SHARED_MIN_NODES = 40;
const MAX_ARGS = 5;

export interface Subprogram {
  /** ELF/BTF symbol */
  name: string;
  decl: ts.FunctionDeclaration;
  /** the program that first called it: its kind is the one its body is lowered for */
  prog: ProgramDecl;
}

export class Subprograms {
  private readonly byDecl = new Map<ts.FunctionDeclaration, Subprogram>();
  private readonly decided = new Map<ts.Node, boolean>();
  private sites: Map<ts.Symbol, number> | undefined;
  private readonly pending: Subprogram[] = [];
  /** subprogram name → names of the subprograms it calls (filled while lowering) */
  readonly callees = new Map<string, Set<string>>();

  constructor(
    private readonly fe: Frontend,
    private readonly mod: ProbeModule,
  ) {}

  /** Should calls of `fn` be real calls? Throws for `@noinline` on a function that cannot be. */
  wantsCall(fn: ts.Node): boolean {
    let d = this.decided.get(fn);
    if (d === undefined) {
      d = this.decide(fn);
      this.decided.set(fn, d);
    }
    return d;
  }

  /** The symbol of `fn`'s subprogram, queued for compilation on first use. */
  symbolOf(fn: ts.FunctionDeclaration, caller: ProgramDecl): string {
    let s = this.byDecl.get(fn);
    if (!s) {
      let name = fn.name!.text;
      const taken = (n: string) =>
        this.mod.maps.some((m) => m.name === n) ||
        this.mod.programs.some((p) => p.name === n) ||
        this.mod.globals.some((g) => g.name === n) ||
        // functions of two modules may share a name
        [...this.byDecl.values()].some((x) => x.name === n);
      while (taken(name)) name = `${name}_fn`;
      s = { name, decl: fn, prog: caller };
      this.byDecl.set(fn, s);
      this.pending.push(s);
    }
    return s.name;
  }

  /** bpf_loop callbacks lowered so far and not yet compiled (bpf-loop.ts). */
  private readonly callbacks: { name: string; func: Func; prog: ProgramDecl }[] = [];
  private callbackCount = 0;

  /** A fresh symbol for a bpf_loop callback of `owner` (a program or function symbol). */
  callbackName(owner: string): string {
    const taken = (n: string) =>
      this.mod.maps.some((m) => m.name === n) ||
      this.mod.programs.some((p) => p.name === n) ||
      this.mod.globals.some((g) => g.name === n) ||
      [...this.byDecl.values()].some((x) => x.name === n);
    let name = `${owner}_loop${this.callbackCount++}`;
    while (taken(name)) name = `${name}_cb`;
    return name;
  }

  /** Queue a lowered callback for compilation; `owner` calls it (stack depth, call chains). */
  addCallback(owner: string, name: string, func: Func, prog: ProgramDecl): void {
    this.callbacks.push({ name, func, prog });
    const set = this.callees.get(owner) ?? new Set<string>();
    set.add(name);
    this.callees.set(owner, set);
  }

  /** The next lowered callback to compile, if any. */
  nextCallback(): { name: string; func: Func; prog: ProgramDecl } | undefined {
    return this.callbacks.shift();
  }

  /** The next subprogram to compile, if any. */
  next(): Subprogram | undefined {
    return this.pending.shift();
  }

  /** A call cycle among subprograms (recursion), reported at the first function in it. */
  checkRecursion(): void {
    const state = new Map<string, "open" | "done">();
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === "done") return;
      if (state.get(n) === "open") {
        const s = [...this.byDecl.values()].find((x) => x.name === n)!;
        const cycle = [...path.slice(path.indexOf(n)), n].join(" → ");
        throw CompileError.at(
          s.decl.name ?? s.decl,
          Code.Limit,
          `recursion is not supported (${cycle}); the verifier rejects recursive calls. Use a bounded loop`,
        );
      }
      state.set(n, "open");
      for (const c of this.callees.get(n) ?? []) visit(c, [...path, n]);
      state.set(n, "done");
    };
    for (const s of this.byDecl.values()) visit(s.name, []);
  }

  private decide(fn: ts.Node): boolean {
    const tags = ts.getJSDocTags(fn).map((t) => t.tagName.text);
    if (tags.includes("inline")) return false;
    const why = this.ineligible(fn);
    if (tags.includes("noinline")) {
      if (why)
        throw CompileError.at(
          fn,
          Code.Unsupported,
          `@noinline: this function cannot be a bpf-to-bpf call because ${why}; remove @noinline to inline it`,
        );
      return true;
    }
    if (why) return false;
    const size = countNodes((fn as ts.FunctionDeclaration).body!);
    if (size >= CALL_MIN_NODES) return true;
    return size >= SHARED_MIN_NODES && this.callSites(fn as ts.FunctionDeclaration) >= 2;
  }

  /** Why `fn` cannot be a subprogram, or undefined when it can. */
  private ineligible(fn: ts.Node): string | undefined {
    if (!ts.isFunctionDeclaration(fn) || !fn.name || !fn.body || !ts.isSourceFile(fn.parent))
      return "only top-level function declarations can be called (arrow functions and nested functions are inlined)";
    if (fn.asteriskToken || fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword))
      return "it is async or a generator";
    if (fn.parameters.length > MAX_ARGS)
      return `it has ${fn.parameters.length} parameters (eBPF passes at most ${MAX_ARGS})`;
    const checker = this.fe.checker;
    for (const p of fn.parameters) {
      if (!ts.isIdentifier(p.name) || p.dotDotDotToken)
        return "a parameter is destructured or a rest parameter";
      if (!isIntegerType(checker.getTypeAtLocation(p)))
        return `parameter ${p.name.text} is not an integer (number, bigint or boolean); pointers and views cannot cross a call`;
    }
    const sig = checker.getSignatureFromDeclaration(fn);
    const ret = sig && checker.getReturnTypeOfSignature(sig);
    if (!ret || !(isIntegerType(ret) || (ret.flags & ts.TypeFlags.Void) !== 0))
      return "its result is not an integer or void";
    return undefined;
  }

  /** Calls of `fn` in all of the probe's modules (an imported function is called by alias). */
  private callSites(fn: ts.FunctionDeclaration): number {
    const { checker } = this.fe;
    if (!this.sites) {
      const sites = new Map<ts.Symbol, number>();
      const visit = (n: ts.Node): void => {
        if (ts.isCallExpression(n) && ts.isIdentifier(n.expression)) {
          const s = checker.getSymbolAtLocation(n.expression);
          if (s) {
            const c = canonical(checker, s);
            sites.set(c, (sites.get(c) ?? 0) + 1);
          }
        }
        ts.forEachChild(n, visit);
      };
      for (const sf of probeFiles(this.fe)) visit(sf);
      this.sites = sites;
    }
    const sym = checker.getSymbolAtLocation(fn.name!);
    return sym ? (this.sites.get(sym) ?? 0) : 0;
  }
}

function isIntegerType(t: ts.Type): boolean {
  const parts = t.isUnion() ? t.types : [t];
  return parts.every(
    (x) =>
      (x.flags & (ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.BooleanLike)) !==
      0,
  );
}

function countNodes(n: ts.Node): number {
  let k = 1;
  ts.forEachChild(n, (c) => {
    k += countNodes(c);
  });
  return k;
}
