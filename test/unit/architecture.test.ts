// Enforces the dependency directions of docs/architecture.md by reading every import
// (static, type-only, re-export and dynamic) of src/**: obj stays pure, types stays a
// leaf, the compiler never reaches the syscall layer, and nothing depends on the CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

// dist/test/unit/ → the repository's TypeScript sources.
const SRC = fileURLToPath(new URL("../../../src", import.meta.url));

/** A module's area: its first directory under src/, or its file name for top-level files. */
function area(srcRelative: string): string {
  const parts = srcRelative.split("/");
  return parts.length > 1 ? parts[0]! : parts[0]!.replace(/\.(ts|js)$/, "");
}

interface Edge {
  from: string; // src-relative path of the importing file
  to: string; // src-relative path of the imported file, or the bare specifier
  external: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith(".ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sources(SRC)) {
    const from = relative(SRC, file).split(sep).join("/");
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName } of info.importedFiles) {
      if (fileName.startsWith(".")) {
        const target = resolve(dirname(file), fileName).replace(/\.js$/, ".ts");
        out.push({ from, to: relative(SRC, target).split(sep).join("/"), external: false });
      } else {
        out.push({ from, to: fileName, external: true });
      }
    }
  }
  return out;
}

interface Rule {
  /** The area whose imports the rule constrains. */
  area: string;
  /** Areas under src/ it may import. */
  areas: readonly string[];
  /** Exact src-relative files it may import outside those areas. */
  files?: readonly string[];
  /** Packages and node: built-ins it may import. */
  externals: readonly string[];
  why: string;
}

const RULES: readonly Rule[] = [
  {
    area: "obj",
    areas: ["obj"],
    // bug.ts: the internal-invariant error; errors.ts: TsbpfError, the user errors' base
    files: ["bug.ts", "errors.ts"],
    externals: [],
    why: "obj is pure and shared by compiler and loader: no syscalls, no Node I/O",
  },
  {
    area: "bug",
    areas: [],
    externals: [],
    why: "bug.ts is a leaf that every layer may import",
  },
  {
    area: "errors",
    areas: [],
    externals: [],
    why: "errors.ts (TsbpfError) is a leaf that every layer may import",
  },
  {
    area: "types",
    areas: ["types"],
    files: ["errors.ts"],
    externals: [],
    why: "struct layouts are imported by probes and user space alike",
  },
  {
    area: "probe",
    areas: ["probe", "types"],
    externals: [],
    why: "probe declarations are compiled, never executed against the kernel",
  },
  {
    area: "compiler",
    areas: ["compiler", "obj", "types", "probe"],
    files: ["errors.ts"],
    externals: ["typescript", "node:fs", "node:path", "node:url"],
    why: "the compiler writes objects; it never loads them",
  },
  {
    area: "sys",
    areas: ["sys"],
    files: ["obj/consts.ts", "bug.ts", "errors.ts"],
    // node-gyp-build finds the addon (built here or prebuilt); node:os names errno values
    externals: ["node:fs", "node:path", "node:url", "node:module", "node:os", "node-gyp-build"],
    why: "sys is the syscall layer; it knows kernel constants, not objects or loaders",
  },
];

// Violations present when the rules were written. Each is a TODO: remove the entry when the
// import goes away, and the test fails if an entry no longer matches anything.
const KNOWN: readonly { from: string; to: string; todo: string }[] = [
  {
    from: "types/btf.ts",
    to: "obj/btf.ts",
    todo: "TODO: a type-only import (BtfSink = Pick<BtfBuilder, …>); declare the four BtfSink methods in types/btf.ts itself and the edge disappears",
  },
];

function allowed(rule: Rule, e: Edge): boolean {
  if (e.external) return rule.externals.includes(e.to);
  return rule.areas.includes(area(e.to)) || (rule.files ?? []).includes(e.to);
}

const ALL = edges();

test("the import scan sees the tree (guards against a scan that finds nothing)", () => {
  assert.ok(ALL.some((e) => e.from === "compiler/index.ts" && e.to === "typescript"));
  assert.ok(ALL.some((e) => area(e.from) === "obj" && area(e.to) === "obj"));
});

for (const rule of RULES) {
  test(`${rule.area}/ imports only ${[...rule.areas, ...(rule.files ?? []), ...rule.externals].join(", ")}`, () => {
    const bad = ALL.filter(
      (e) =>
        area(e.from) === rule.area &&
        !allowed(rule, e) &&
        !KNOWN.some((k) => k.from === e.from && k.to === e.to),
    ).map((e) => `${e.from} → ${e.to}`);
    assert.deepEqual(bad, [], `${rule.why}; move the code or invert the dependency`);
  });
}

/** What the accelerator may use of the CLI: the command it serves, its error, the warm-up project. */
const ACCEL_USES_OF_CLI: readonly string[] = [
  "cli/main.ts",
  "cli/usage-error.ts",
  "cli/templates/project.ts",
];

// Pure halves kept apart from the syscalls that feed them, so they run (and are fuzzed)
// without a kernel: parsers of system files and ring walkers.
const PURE_FILES = [
  "load/verifier.ts",
  "types/codec.ts",
  "map/map-data.ts",
  "link/elf-symbols.ts",
  "link/ld-cache.ts",
  "link/netlink.ts",
  "reader/perf-ring.ts",
  "reader/ringbuf-ring.ts",
  "reader/merge.ts",
  "reader/batch.ts",
];

test("pure modules import no syscall layer and no Node I/O", () => {
  for (const f of PURE_FILES)
    assert.ok(
      existsSync(join(SRC, f)),
      `${f} is listed as pure but does not exist: update PURE_FILES`,
    );
  const bad = ALL.filter(
    (e) =>
      PURE_FILES.includes(e.from) &&
      (e.external ? e.to.startsWith("node:") : ["sys", "link", "reader"].includes(area(e.to))) &&
      !(!e.external && dirname(e.to) === dirname(e.from) && PURE_FILES.includes(e.to)) &&
      !(!e.external && e.to === `${dirname(e.from)}/errors.ts`),
  ).map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(bad, [], "keep parsing apart from I/O: pass bytes in, get values out");
});

test("nothing outside cli/ imports cli/ (accel/ hosts the command: it runs cli/main.ts)", () => {
  const bad = ALL.filter(
    (e) =>
      !e.external &&
      area(e.to) === "cli" &&
      area(e.from) !== "cli" &&
      !(area(e.from) === "accel" && ACCEL_USES_OF_CLI.includes(e.to)),
  ).map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(
    bad,
    [],
    "the CLI is a thin shell over the library; put shared code in the library",
  );
});

test("only sys/ imports the native addon (sys/native.ts)", () => {
  const bad = ALL.filter(
    (e) => !e.external && e.to === "sys/native.ts" && area(e.from) !== "sys",
  ).map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(
    bad,
    [],
    "call a typed function of sys/ (add one there) so the addon surface stays in one place and unit tests can install a fake",
  );
  // The scan must see sys/'s own imports of it, or the rule above proves nothing.
  assert.ok(ALL.some((e) => e.from === "sys/bpf.ts" && e.to === "sys/native.ts"));
});

test("only cli/ imports accel/ (the build accelerator is an optional path of the command)", () => {
  const bad = ALL.filter(
    (e) => !e.external && area(e.to) === "accel" && !["cli", "accel"].includes(area(e.from)),
  ).map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(bad, [], "the library and the compiler must work without the accelerator");
});

test("every known exception still exists (delete the entry once fixed)", () => {
  for (const k of KNOWN) {
    assert.ok(
      ALL.some((e) => e.from === k.from && e.to === k.to),
      `${k.from} → ${k.to} is gone: remove it from KNOWN`,
    );
  }
});

// ---- file-level import cycles ----
// A value-level cycle between two files makes the evaluation order of their top-level code
// depend on which one is imported first (a bundle that orders them differently turns it into a
// TDZ ReferenceError at load), and means neither file can be read or tested without the other.
// Type-only imports (`import type`, `import { type X }`, `export type … from`) are erased at
// run time and may form cycles (the closed-union idiom in types/).

/** Value-level imports of a file: static imports and re-exports not entirely type-only, and dynamic import(). */
function valueImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const add = (spec: string) => {
    if (spec.startsWith("."))
      out.push(
        relative(SRC, resolve(dirname(file), spec).replace(/\.js$/, ".ts"))
          .split(sep)
          .join("/"),
      );
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const c = st.importClause;
      const typeOnly =
        c !== undefined &&
        (c.isTypeOnly ||
          (c.name === undefined &&
            c.namedBindings !== undefined &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((el) => el.isTypeOnly)));
      if (!typeOnly) add(st.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(st) &&
      st.moduleSpecifier &&
      ts.isStringLiteral(st.moduleSpecifier) &&
      !st.isTypeOnly &&
      !(
        st.exportClause &&
        ts.isNamedExports(st.exportClause) &&
        st.exportClause.elements.length > 0 &&
        st.exportClause.elements.every((el) => el.isTypeOnly)
      )
    )
      add(st.moduleSpecifier.text);
  }
  const visit = (n: ts.Node): void => {
    if (
      ts.isCallExpression(n) &&
      n.expression.kind === ts.SyntaxKind.ImportKeyword &&
      n.arguments[0] &&
      ts.isStringLiteral(n.arguments[0])
    )
      add(n.arguments[0].text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) strong(v);
  return out;
}

const VALUE_GRAPH = new Map(
  sources(SRC).map((f) => [relative(SRC, f).split(sep).join("/"), valueImports(f)]),
);

test("the value-import scan tells type-only imports apart", () => {
  // intrinsics.ts imports the LowerHost interface type-only and packet.ts by value
  assert.ok(!VALUE_GRAPH.get("compiler/lower/intrinsics.ts")!.includes("compiler/lower/host.ts"));
  assert.ok(VALUE_GRAPH.get("compiler/lower/intrinsics.ts")!.includes("compiler/lower/packet.ts"));
  assert.ok(
    ALL.some((e) => e.from === "compiler/lower/intrinsics.ts" && e.to === "compiler/lower/host.ts"),
  );
});

// Value cycles present when this test was written, each a TODO: remove the entry when it goes.
const KNOWN_CYCLES: readonly { files: string; todo: string }[] = [];

test("no value-level import cycle between files under src/", () => {
  const found = cycles(VALUE_GRAPH).map((c) => c.join(" ⇄ "));
  assert.deepEqual(
    found.filter((c) => !KNOWN_CYCLES.some((k) => k.files === c)),
    [],
    "files import each other by value: move the shared part into a file both import, or make one edge `import type`",
  );
  for (const k of KNOWN_CYCLES)
    assert.ok(
      found.includes(k.files),
      `${k.files} is no longer a cycle: remove it from KNOWN_CYCLES`,
    );
});
