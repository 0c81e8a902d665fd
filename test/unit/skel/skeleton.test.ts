// Typed skeletons (src/skel/generate.ts): the module generated for every clang fixture object and
// for a TypeScript probe type-checks under the strictest options projects use (strict,
// noUnusedLocals/Parameters) against the library's own declarations, and its struct layouts
// are the BTF's (sizes and offsets), so values decode where the kernel put them.
import { test } from "node:test";
import type { Btf, BtfType } from "../../../src/obj/btf.js";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { generateSkeleton } from "../../../src/skel/generate.js";
import { parseObject } from "../../../src/obj/object.js";
import { ObjectError } from "../../../src/obj/errors.js";
import { compileProbe } from "../../../src/compiler/index.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const OBJ = join(ROOT, "test", "fixtures", "obj");

function typeCheck(files: string[]): string[] {
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts", "lib.esnext.asynciterable.d.ts"],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    typeRoots: [join(ROOT, "node_modules", "@types")],
    baseUrl: ROOT,
    paths: { tsbpf: ["./src/index.ts"], "tsbpf/types": ["./src/types/index.ts"] },
  });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.includes(d.file.fileName))
    .map((d) => `${d.file!.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

test("skeletons of every fixture object and of a TypeScript probe type-check strictly", (t) => {
  const dir = join(ROOT, "build", `skel-check-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files: string[] = [];
  let objects: string[] = [];
  try {
    objects = readdirSync(OBJ).filter((f) => f.endsWith(".o"));
  } catch {
    // no fixtures built: the TypeScript probe below still runs
  }
  for (const f of objects) {
    const bytes = readFileSync(join(OBJ, f));
    try {
      parseObject(bytes);
    } catch (e) {
      assert.ok(e instanceof ObjectError);
      continue; // objects the parser refuses have no skeleton either
    }
    const name = f.slice(0, -2);
    const file = join(dir, `${name}.skel.ts`);
    writeFileSync(
      file,
      generateSkeleton(bytes, { name, elfPath: `test/fixtures/obj/${f}`, embed: name === "hist" }),
    );
    files.push(file);
  }
  const probe = compileProbe(join(ROOT, "examples", "trace_http", "probe.ts"));
  const events = new Map(
    probe.maps.filter((m) => m.cls === "PerfMap").map((m) => [m.name, m.value!]),
  );
  const file = join(dir, "trace_http.skel.ts");
  writeFileSync(
    file,
    generateSkeleton(probe.elf, { name: "trace_http", elfPath: "x.elf", eventTypes: events }),
  );
  files.push(file);
  assert.deepEqual(typeCheck(files), []);
  assert.match(
    readFileSync(file, "utf8"),
    /requests: \{ kind: "perf_event_array", event: RequestInfo \}/,
  );
});

test("skeleton structs have the BTF's sizes and member offsets (imported and checked at run time)", async (t) => {
  const dir = join(ROOT, "build", `skel-run-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let checked = 0;
  for (const f of readdirSync(OBJ).filter((x) => x.endsWith(".o"))) {
    const bytes = readFileSync(join(OBJ, f));
    let btf: Btf | undefined;
    try {
      btf = parseObject(bytes).btf;
    } catch {
      continue;
    }
    if (!btf) continue;
    const name = f.slice(0, -2);
    const js = ts.transpileModule(generateSkeleton(bytes, { name, elfPath: f }), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    // inside the package directory, "tsbpf" resolves to this checkout (package self-reference)
    const file = join(dir, `${name}.skel.js`);
    writeFileSync(file, js);
    const mod = (await import(file)) as Record<string, unknown>;
    for (const [k, v] of Object.entries(mod)) {
      const s = v as {
        kind?: string;
        size?: number;
        name?: string;
        fields?: { name: string; offset: number }[];
      };
      if (s?.kind !== "struct") continue;
      // A struct without a name (`struct { … } out;`) is named after its variable.
      const anonymous = (): { type: BtfType } | undefined => {
        const v = btf.findByName("var", s.name!);
        const type = v && btf.typeById(btf.resolve(v.type.type));
        return type?.kind === "struct" && type.name === "" ? { type } : undefined;
      };
      const found = (btf.findByName("struct", s.name!) ?? anonymous()) as
        { type: { size: number; members: { name: string; bitOffset: number }[] } } | undefined;
      assert.ok(found, `${f}: struct ${k} is in the BTF`);
      assert.equal(s.size, found.type.size, `${f}: sizeof(struct ${k})`);
      for (const m of found.type.members)
        if (m.name)
          assert.equal(
            s.fields!.find((x) => x.name === m.name)?.offset,
            m.bitOffset / 8,
            `${f}: ${k}.${m.name}`,
          );
      checked++;
    }
  }
  assert.ok(checked >= 5, `checked ${checked} structs`);
});
