// Which files are the probe's own modules, and the functions they contribute. A probe may call
// top-level functions of any module it imports by path (`./util.js`), as C probes include
// `static __always_inline` helpers from a header; those are lowered exactly like functions of
// the entry file. Functions of packages (node_modules), of tsbpf itself and of declaration
// files have no source the compiler may compile, and calling one is a clear error.
import ts from "typescript";
import { basename, dirname, relative } from "node:path";
import { LIB_FILE_NAME } from "../frontend/lib.js";
import { isPackageFile, type Frontend } from "../frontend/typecheck.js";

const inNodeModules = (file: string): boolean => /[\\/]node_modules[\\/]/.test(file);

/** True for a TypeScript source file of the probe itself (the entry or a module it imports). */
export function isProbeFile(sf: ts.SourceFile): boolean {
  return (
    sf.fileName !== LIB_FILE_NAME &&
    !sf.isDeclarationFile &&
    !isPackageFile(sf.fileName) &&
    !inNodeModules(sf.fileName)
  );
}

/** The probe's own source files: the entry first, then the modules it imports. */
export function probeFiles(fe: Frontend): ts.SourceFile[] {
  return [fe.entry, ...fe.program.getSourceFiles().filter((f) => f !== fe.entry && isProbeFile(f))];
}

/**
 * The top-level function declarations (with a name and a body) of every probe module other
 * than the entry, whose own top level is scanned statement by statement.
 */
export function importedFunctions(fe: Frontend): [ts.Identifier, ts.FunctionDeclaration][] {
  const out: [ts.Identifier, ts.FunctionDeclaration][] = [];
  for (const sf of probeFiles(fe).slice(1))
    for (const st of sf.statements)
      if (ts.isFunctionDeclaration(st) && st.name && st.body) out.push([st.name, st]);
  return out;
}

/**
 * Why a function declared outside the probe's own modules cannot be called, or undefined when
 * `decl` is not such a function.
 */
export function foreignFunction(
  decl: ts.Declaration,
  name: string,
  fe: Frontend,
): string | undefined {
  const sf = decl.getSourceFile();
  if (sf.fileName === LIB_FILE_NAME || !isFunction(decl)) return undefined;
  if (isProbeFile(sf) && (!ts.isFunctionDeclaration(decl) || decl.body)) return undefined;
  const own =
    'probe code can call only functions defined in the probe\'s own modules (imported by a relative path such as "./util.js")';
  if (inNodeModules(sf.fileName)) {
    const pkg = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(sf.fileName)?.[1];
    return `${name} comes from the package "${pkg ?? "?"}" (node_modules), which the compiler does not compile; ${own}: copy the function into one of them`;
  }
  if (isPackageFile(sf.fileName))
    return `${name} is part of tsbpf's user-space library, which runs in Node.js, not in the kernel; ${own}`;
  const where = relative(dirname(fe.entry.fileName), sf.fileName) || basename(sf.fileName);
  return `${name} is only declared (${where} gives no body), so there is no code to compile; ${own}`;
}

/** A function declaration, or a const bound to a function (or declared with a function type). */
function isFunction(d: ts.Declaration): boolean {
  if (ts.isFunctionDeclaration(d)) return true;
  if (!ts.isVariableDeclaration(d)) return false;
  const init = d.initializer;
  return (
    (init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) ||
    (d.type !== undefined && ts.isFunctionTypeNode(d.type))
  );
}
