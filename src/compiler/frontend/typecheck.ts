// Front end: a type-checked TypeScript program for one probe entry, with `tsbpf/probe` and
// `tsbpf/types` resolved to this package's own sources (a checkout) or declarations (an
// installed package), and the minimal lib instead of the default one.
import ts from "typescript";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LIB_FILE_NAME, LIB_SOURCE } from "./lib.js";
import { CompileError, Code, fromTsDiagnostic } from "../errors.js";
import { SizeBudget, checkAstNesting, checkBracketNesting, parseUserFile } from "../limits.js";
import { TsbpfError } from "../../errors.js";

/** Package root: this file is <root>/dist/src/compiler/frontend/typecheck.js (or <root>/src/compiler/frontend). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(resolve(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("tsbpf: cannot find the package root above " + fileURLToPath(import.meta.url));
}

const ROOT = packageRoot();

/**
 * Where the checker reads `tsbpf/<sub>` from: the declarations tsc emitted next to this
 * compiler (a checkout's dist or an installed package), else the sources (running from src/).
 * Declarations are a quarter of the text and skip the implementation-only imports (obj/btf),
 * which halves a cold build's parse and bind work.
 */
export function apiModulePath(sub: "probe" | "types"): string {
  const dts = fileURLToPath(new URL(`../../${sub}/index.d.ts`, import.meta.url));
  if (existsSync(dts)) return dts;
  const src = resolve(ROOT, "src", sub, "index.ts");
  if (existsSync(src)) return src;
  return resolve(ROOT, "dist", "src", sub, "index.d.ts");
}

/** tsbpf's own code: its sources (a checkout) and what tsc emitted from them (dist). */
const OWN_DIRS = [resolve(ROOT, "src") + "/", resolve(ROOT, "dist") + "/"];

/**
 * True for files that belong to tsbpf itself (their diagnostics are not the user's). Probes
 * inside a checkout (examples, test fixtures, the compiler benchmark's programs) are the
 * user's: they are type-checked as any probe is.
 */
export const isPackageFile = (file: string): boolean => {
  const abs = resolve(file);
  return OWN_DIRS.some((d) => abs.startsWith(d));
};

export const COMPILER_OPTIONS: ts.CompilerOptions = {
  noLib: true,
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: false,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  noUnusedLocals: false,
};

export interface Frontend {
  program: ts.Program;
  checker: ts.TypeChecker;
  entry: ts.SourceFile;
  /** export name → canonical symbol, for tsbpf/probe and tsbpf/types */
  probeExports: Map<string, ts.Symbol>;
  typesExports: Map<string, ts.Symbol>;
}

/**
 * Parsed and bound SourceFiles of the probe lib and tsbpf's own declarations, reused by every
 * program of this process (and kept in the `tsbpf build` startup snapshot, see
 * src/accel/snapshot.ts). TypeScript binds a SourceFile once and keeps the result on its nodes, and
 * a checker only reads it, so a later program skips parse and bind, as a language service
 * does. An entry is used only while the file's text is unchanged.
 */
const trustedFiles = new Map<string, ts.SourceFile>();

/** The cached SourceFile of `fileName` when its text is still `text`, else a new one (cached). */
function trustedSourceFile(
  fileName: string,
  text: string,
  lang: ts.ScriptTarget | ts.CreateSourceFileOptions,
): ts.SourceFile {
  const cached = trustedFiles.get(fileName);
  if (cached !== undefined && cached.text === text) return cached;
  const sf = ts.createSourceFile(fileName, text, lang, true);
  trustedFiles.set(fileName, sf);
  return sf;
}

/** Size and modification time of a package declaration when its SourceFile was cached. */
const declarationStamps = new Map<string, string>();

/**
 * A `.d.ts` of tsbpf's own, from the cache while the file's size and mtime are unchanged (one
 * stat instead of reading and comparing the text on every build); undefined when unreadable.
 */
function packageDeclaration(
  fileName: string,
  lang: ts.ScriptTarget | ts.CreateSourceFileOptions,
): ts.SourceFile | undefined {
  let stamp: string;
  try {
    const st = statSync(fileName);
    stamp = `${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
  const cached = trustedFiles.get(fileName);
  if (cached !== undefined && declarationStamps.get(fileName) === stamp) return cached;
  let text: string;
  try {
    text = readFileSync(fileName, "utf8");
  } catch {
    return undefined;
  }
  declarationStamps.set(fileName, stamp);
  return trustedSourceFile(fileName, text, lang);
}

/**
 * Module resolutions made from tsbpf's own files (the declarations importing each other), kept
 * for the process: they name only files of the package, which a build does not change. The
 * user's imports are resolved afresh every build (a file may have appeared since).
 */
const packageResolutions = new Map<string, ts.ResolvedModuleWithFailedLookupLocations>();

/** Build the checked program. Throws CompileError for type errors in the user's files. */
export function createFrontend(entryPath: string, sources?: ReadonlyMap<string, string>): Frontend {
  const entry = resolve(entryPath);
  const probePath = apiModulePath("probe");
  const typesPath = apiModulePath("types");
  const host = ts.createCompilerHost(COMPILER_OPTIONS, true);
  const baseReadFile = host.readFile.bind(host);
  const baseGetSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, lang, onError, shouldCreate) => {
    if (fileName === LIB_FILE_NAME) return trustedSourceFile(fileName, LIB_SOURCE, lang);
    const text = sources?.get(resolve(fileName));
    // The user's files: brackets nested past the limit overflow TypeScript's parser.
    if (!isPackageFile(fileName)) {
      const t = text ?? baseReadFile(fileName);
      if (t !== undefined) checkBracketNesting(fileName, t);
    }
    if (text !== undefined) return parseUserFile(fileName, text, lang);
    if (fileName.endsWith(".d.ts") && isPackageFile(fileName)) {
      const sf = packageDeclaration(fileName, lang);
      if (sf !== undefined) return sf;
    }
    if (isPackageFile(fileName)) return baseGetSourceFile(fileName, lang, onError, shouldCreate);
    const t = baseReadFile(fileName);
    return t === undefined
      ? baseGetSourceFile(fileName, lang, onError, shouldCreate)
      : parseUserFile(fileName, t, lang);
  };
  const baseFileExists = host.fileExists.bind(host);
  host.fileExists = (f) =>
    f === LIB_FILE_NAME || sources?.has(resolve(f)) === true || baseFileExists(f);
  // In-memory sources may live in directories that do not exist on disk; module resolution
  // looks for the directory before the file.
  const baseDirectoryExists = host.directoryExists?.bind(host);
  host.directoryExists = (d) =>
    (sources !== undefined && [...sources.keys()].some((f) => f.startsWith(resolve(d) + "/"))) ||
    (baseDirectoryExists?.(d) ?? true);
  host.readFile = (f) =>
    f === LIB_FILE_NAME ? LIB_SOURCE : (sources?.get(resolve(f)) ?? baseReadFile(f));
  host.resolveModuleNameLiterals = (literals, containingFile, _redirect, options) =>
    literals.map((lit) => {
      const name = lit.text;
      if (name === "tsbpf/probe" || name === "tsbpf/types") {
        const path = name === "tsbpf/probe" ? probePath : typesPath;
        return {
          resolvedModule: {
            resolvedFileName: path,
            extension: path.endsWith(".d.ts") ? ts.Extension.Dts : ts.Extension.Ts,
            isExternalLibraryImport: false,
          },
        };
      }
      if (!isPackageFile(containingFile))
        return ts.resolveModuleName(name, containingFile, options, host);
      const key = `${containingFile}\0${name}`;
      let r = packageResolutions.get(key);
      if (r === undefined) {
        r = ts.resolveModuleName(name, containingFile, options, host);
        if (r.resolvedModule !== undefined) packageResolutions.set(key, r);
      }
      return r;
    });

  if (!host.fileExists(entry)) {
    throw new CompileError(Code.Module, `probe file not found: ${entry}`, entry, 1, 1);
  }
  const program = ts.createProgram({
    rootNames: [LIB_FILE_NAME, entry],
    options: { ...COMPILER_OPTIONS, lib: undefined },
    host,
  });
  // Only the user's files are checked and reported; tsbpf's own are its business.
  const userFiles = program
    .getSourceFiles()
    .filter(
      (f) => f.fileName !== LIB_FILE_NAME && !isPackageFile(f.fileName) && !f.isDeclarationFile,
    );
  // Nesting past the limit overflows TypeScript's binder and checker and the compiler's passes.
  const budget = new SizeBudget();
  for (const f of userFiles) checkAstNesting(f, budget);
  const diags = userFiles
    .flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)])
    .filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (diags.length > 0) {
    // import.meta makes TypeScript ask for a global ImportMeta type the probe library does not
    // have, a diagnostic with no position: say at the construct itself what is wrong instead.
    const meta = userFiles.flatMap(importMetaUses);
    const shown = meta.length > 0 ? diags.filter((d) => d.file !== undefined) : diags;
    throw new CompileErrors([...meta, ...shown.map(fromTsDiagnostic)]);
  }
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(entry);
  if (!sf) throw new CompileError(Code.Module, `cannot read probe file ${entry}`, entry, 1, 1);
  return {
    program,
    checker,
    entry: sf,
    probeExports: exportsOf(program, checker, probePath),
    typesExports: exportsOf(program, checker, typesPath),
  };
}

/** Every `import.meta` in `sf`, as a diagnostic at its position. */
function importMetaUses(sf: ts.SourceFile): CompileError[] {
  const out: CompileError[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isMetaProperty(n) && n.keywordToken === ts.SyntaxKind.ImportKeyword) {
      const { line, character } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
      out.push(
        new CompileError(
          Code.Unsupported,
          "import.meta is not available in a probe: it runs in the kernel, where there is no module URL; pass what you need as a global or a map value from the loader",
          sf.fileName,
          line + 1,
          character + 1,
        ),
      );
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Several errors at once (type errors are reported together, as tsc does). */
export class CompileErrors extends TsbpfError {
  override readonly name = "CompileErrors";
  constructor(readonly errors: CompileError[]) {
    super(errors.map((e) => e.format()).join("\n"));
  }
}

function exportsOf(
  program: ts.Program,
  checker: ts.TypeChecker,
  path: string,
): Map<string, ts.Symbol> {
  const out = new Map<string, ts.Symbol>();
  const sf = program.getSourceFile(path);
  if (!sf) return out;
  const mod = checker.getSymbolAtLocation(sf);
  if (!mod) return out;
  for (const s of checker.getExportsOfModule(mod)) out.set(s.name, canonical(checker, s));
  return out;
}

/** Follow import/export aliases to the declaring symbol. */
export function canonical(checker: ts.TypeChecker, s: ts.Symbol): ts.Symbol {
  return s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
}

/** Source line text, for `.BTF.ext` line info. */
export function lineText(sf: ts.SourceFile, line: number): string {
  const starts = sf.getLineStarts();
  const start = starts[line - 1] ?? 0;
  const end = starts[line] ?? sf.text.length;
  return sf.text.slice(start, end).replace(/\r?\n$/, "");
}
