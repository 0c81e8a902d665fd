// The exporter's client libraries are optional dependencies that only the exporter loads, when
// it needs them: nothing reachable from `tsbpf` (src/index.ts) imports src/export/ or those
// packages, and inside src/export/ they appear only as type imports (the values come through
// optionalImport(), which names the package to install when one is missing).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const SRC = fileURLToPath(new URL("../../../../src", import.meta.url));
const PKG = JSON.parse(readFileSync(join(SRC, "../package.json"), "utf8")) as {
  optionalDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};
const OPTIONAL = Object.keys(PKG.optionalDependencies);

/** Imports of a file that load code at run time (type-only imports and exports left out). */
function valueImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && !n.importClause?.isTypeOnly)
      out.push((n.moduleSpecifier as ts.StringLiteral).text);
    if (ts.isExportDeclaration(n) && !n.isTypeOnly && n.moduleSpecifier)
      out.push((n.moduleSpecifier as ts.StringLiteral).text);
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = n.arguments;
      if (arg && ts.isStringLiteral(arg)) out.push(arg.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

test("every optional dependency is pinned to an exact version", () => {
  assert.deepEqual(OPTIONAL.sort(), [
    "@opentelemetry/api",
    "@opentelemetry/exporter-metrics-otlp-proto",
    "@opentelemetry/resources",
    "@opentelemetry/sdk-metrics",
    "prom-client",
    "yaml",
  ]);
  for (const [name, v] of Object.entries(PKG.optionalDependencies))
    assert.match(v, /^\d+\.\d+\.\d+$/, `${name}@${v} is not an exact version`);
});

test("import 'tsbpf' reaches neither src/export/ nor the exporter's packages", () => {
  const seen = new Set<string>();
  const externals = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of valueImports(file)) {
      if (spec.startsWith(".")) walk(resolve(dirname(file), spec).replace(/\.js$/, ".ts"));
      else externals.add(spec);
    }
  };
  walk(join(SRC, "index.ts"));
  const exportFiles = [...seen].filter((f) => f.startsWith(join(SRC, "export")));
  assert.deepEqual(exportFiles, []);
  for (const pkg of OPTIONAL) assert.ok(!externals.has(pkg), `tsbpf imports ${pkg}`);
  assert.ok(seen.size > 20, "the walk followed the library's imports");
});

test("src/export/ loads optional packages only through optionalImport()", () => {
  const dir = join(SRC, "export");
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".ts")))
    for (const spec of valueImports(join(dir, f)))
      assert.ok(!OPTIONAL.includes(spec), `${f} imports ${spec} statically`);
  // and optionalImport is what config.ts, prometheus.ts and otlp.ts call with those names
  const text = ["config.ts", "prometheus.ts", "otlp.ts"]
    .map((f) => readFileSync(join(dir, f), "utf8"))
    .join("\n");
  for (const pkg of OPTIONAL)
    assert.match(
      text,
      new RegExp(`optionalImport<[^>]+>\\(\\s*"${pkg.replace(/[/]/g, "\\/")}"`),
      pkg,
    );
});
