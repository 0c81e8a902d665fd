// Every error a library user can hit is typed (issue 17): no `throw new Error(…)`, TypeError or
// RangeError creeps back into the library (src/ outside the compiler, which has CompileError and
// its internal-error scheme, and the CLI, which has UsageError). Internal invariants use bug()
// (src/bug.ts), whose message asks for a report; their sites are pinned below, so a new one is
// a decision someone makes, not an accident. And every error class anywhere in src/ derives
// from the one base TsbpfError (src/errors.ts), which is what the CLI prints as a user error;
// anything else gets a stack and a request for a report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "../support/cli-run.js";
import * as lib from "../../src/index.js";
import * as types from "../../src/types/index.js";
import { isUserError, reportError } from "../../src/cli/main.js";
import { TsbpfError } from "../../src/errors.js";
import { bug } from "../../src/bug.js";

const SRC = join(ROOT, "src");

/** Untyped errors the scan allows, by file: each is commented with why it may stay. */
const UNTYPED_ALLOWED: Record<string, number> = {
  // bug() itself: the one place an internal-invariant Error is made.
  "src/bug.ts": 1,
  // Probe declarations executed in Node by mistake. The module must stay free of runtime
  // dependencies and within the compiler's minimal lib (no class of its own); the message
  // says what to do.
  "src/probe/kernel-only.ts": 1,
};

/**
 * Internal-invariant sites (calls of bug()), by file. Each guards a state that the library's
 * own callers rule out; raise a count only for a new "cannot happen" check, never for an error
 * a user's input or machine can cause (give that a typed error instead).
 */
const BUG_SITES: Record<string, number> = {
  // BtfBuilder: names and ids come from validated type definitions or the compiler.
  "src/obj/btf.ts": 11,
  // writeElf: its callers (compiler, tests) build consistent section lists.
  "src/obj/elf-write.ts": 10,
  // ring views over mappings whose sizes the readers checked before mapping them
  "src/reader/ringbuf-ring.ts": 3,
  "src/reader/perf-ring.ts": 1,
  "src/sys/mmap.ts": 2,
  // FD numbers come from check()ed syscalls
  "src/sys/fd.ts": 1,
  // installFakeNative() given an incomplete fake (tests only)
  "src/sys/native.ts": 1,
  // BPF_PROG_LOAD of instructions the object parser already checked
  "src/sys/bpf.ts": 1,
  // SO_PEERCRED's fixed-size answer; Node's socket handle exposing its fd
  "src/sys/peer.ts": 2,
  // netlink attributes we build are small
  "src/link/netlink.ts": 1,
  // every CO-RE relocation was resolved (or poisoned) before patching
  "src/load/core-relocate.ts": 1,
  // helperIds: callers pass literal helper names (a typo fails at module load, in every test)
  "src/obj/helpers.ts": 1,
  // the program-kind table's lookups of its own members (checked by program-kinds.test.ts)
  "src/obj/program-kinds.ts": 3,
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

const ALL_SOURCES = sources(SRC)
  .map((p) => relative(ROOT, p))
  .sort();

/** Library sources: src/ without the compiler and the command (cli/, and accel/ that serves it). */
const library = ALL_SOURCES.filter(
  (p) => !["src/compiler/", "src/cli/", "src/accel/"].some((d) => p.startsWith(d)),
);

/** Source text without comments, so a comment that mentions `new Error(` does not count. */
function code(path: string): string {
  return readFileSync(join(ROOT, path), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

function counts(pattern: RegExp): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of library) {
    const n = code(p).match(pattern)?.length ?? 0;
    if (n > 0) out.set(p, n);
  }
  return out;
}

test("the scan sees the library (and not the compiler or CLI)", () => {
  assert.ok(library.includes("src/sys/fd.ts"));
  assert.ok(library.includes("src/link/link.ts"));
  assert.ok(library.length > 50, `${library.length} files`);
  assert.ok(!library.some((p) => /^src\/(compiler|cli|accel)\//.test(p)));
});

test("no untyped Error, TypeError or RangeError in the library outside the allow-list", () => {
  const found = counts(/\bnew\s+(Error|TypeError|RangeError|SyntaxError|ReferenceError)\s*\(/g);
  const unexpected = [...found]
    .filter(([p, n]) => n > (UNTYPED_ALLOWED[p] ?? 0))
    .map(([p, n]) => `${p}: ${n} (allowed ${UNTYPED_ALLOWED[p] ?? 0})`);
  assert.deepEqual(
    unexpected,
    [],
    "throw a typed error (docs/architecture.md, Conventions) that names the thing at fault and what to do; for a state that cannot happen, bug() from src/bug.ts",
  );
  // A stale entry is trimmed, so the list stays the truth.
  for (const [p, n] of Object.entries(UNTYPED_ALLOWED)) assert.equal(found.get(p), n, p);
});

test("bug() sites are the pinned internal invariants", () => {
  const found = counts(/\bbug\(/g);
  found.delete("src/bug.ts"); // the definition
  assert.deepEqual(Object.fromEntries(found), BUG_SITES);
});

test("the scan catches what it is for", () => {
  const re = /\bnew\s+(Error|TypeError|RangeError|SyntaxError|ReferenceError)\s*\(/g;
  assert.equal(
    'throw new Error("x"); throw new TypeError(`y`); new RangeError (z)'.match(re)?.length,
    3,
  );
  assert.equal("throw new MapError('x'); new ObjectError(y)".match(re), null);
});

test("bug() says it is a bug to report", () => {
  const e = bug("x held");
  assert.equal(e.constructor, Error);
  assert.match(e.message, /^x held \(this is a bug in tsbpf: please report it/);
  assert.equal(isUserError(e), false);
});

/** Constructor arguments of the classes that take more than a message. */
const ARGS: Record<string, unknown[]> = {
  SysError: ["bpf", 1],
  VerifierError: ["p", 13, "log"],
  RingCorruptError: ["detail", { map: "m" }],
  FormatError: ["netlink reply", "short"],
};

/** The Error subclasses a module exports. */
function errorClasses(mod: Record<string, unknown>): [string, new (m: string) => Error][] {
  return Object.entries(mod).filter(
    (entry): entry is [string, new (m: string) => Error] =>
      typeof entry[1] === "function" && entry[1].prototype instanceof Error,
  );
}

test("every exported error class names itself, derives from TsbpfError and is a user error to the CLI", () => {
  const classes = [...errorClasses(lib), ...errorClasses(types)];
  const names = classes.map(([n]) => n).sort();
  for (const expected of [
    "TsbpfError",
    "AttachError",
    "LinkError",
    "FormatError",
    "MapError",
    "LoadError",
    "ProgramError",
    "SysError",
    "ObjectError",
    "VerifierError",
    "CoreRelocationError",
    "KconfigError",
    "KernelBtfError",
    "AddonError",
    "BpffsError",
    "TracefsError",
    "CpuListError",
    "RingCorruptError",
    "ReaderClosedError",
    "ReaderOptionError",
    "EncodeError",
    "DecodeError",
    "TypeDefinitionError",
  ])
    assert.ok(names.includes(expected), `${expected} is exported`);
  for (const [exported, C] of classes) {
    // The constructors differ; the name is on every instance (a class field).
    const instance = Reflect.construct(C, ARGS[exported] ?? ["m"]) as Error;
    assert.equal(instance.name, exported, `${exported}'s name is its own`);
    assert.ok(instance instanceof TsbpfError, `${exported} derives from TsbpfError`);
    assert.ok(isUserError(instance), `${exported} prints as a user error`);
  }
});

/** Error classes in src/ that are not user errors, with why. */
const INTERNAL_ERROR_CLASSES: Record<string, string> = {
  // the base itself
  TsbpfError: "src/errors.ts",
  // the build server's answer to a malformed request from its own C client: the server logs it
  // and the client builds the ordinary way; no user sees it
  RequestError: "src/accel/server-protocol.ts",
};

test("every error class declared anywhere in src/ derives from TsbpfError", () => {
  const bad: string[] = [];
  let seen = 0;
  for (const p of ALL_SOURCES) {
    const text = code(p);
    for (const m of text.matchAll(/\bclass\s+(\w+)\s+extends\s+(\w*Error)\b/g)) {
      const [, name, base] = m as unknown as [string, string, string];
      seen++;
      if (
        base === "TsbpfError" ||
        (/Error$/.test(base) && !["Error", "TypeError", "RangeError", "SyntaxError"].includes(base))
      )
        continue;
      // a built-in base kept for compatibility must be marked userErrorClass(Name)
      if (new RegExp(`userErrorClass\\(${name}\\)`).test(text)) continue;
      if (INTERNAL_ERROR_CLASSES[name] === p) continue;
      bad.push(`${p}: ${name} extends ${base}`);
    }
  }
  assert.ok(seen > 20, `the scan saw ${seen} error classes`);
  assert.deepEqual(
    bad,
    [],
    "extend TsbpfError (src/errors.ts) so the CLI prints it as the user's error",
  );
});

test("instanceof TsbpfError: subclasses keep their own check; built-in-based user errors count", () => {
  assert.ok(new lib.MapError("x") instanceof TsbpfError);
  assert.ok(!(new lib.MapError("x") instanceof lib.AttachError));
  assert.ok(!(new lib.SysError("bpf", 1) instanceof lib.MapError));
  const d = new types.DecodeError("x");
  assert.ok(d instanceof RangeError && d instanceof TsbpfError);
  assert.ok(!(new RangeError("x") instanceof TsbpfError));
  assert.ok(!(new Error("x") instanceof TsbpfError));
  assert.ok(!((null as unknown as object) instanceof TsbpfError));
  // A subclass of a subclass is still one.
  class Narrow extends lib.MapError {}
  assert.ok(new Narrow("x") instanceof TsbpfError && new Narrow("x") instanceof lib.MapError);
});

/** What reportError prints for `e`, and its exit code. */
async function report(e: unknown): Promise<{ out: string; code: number }> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
  try {
    const code = await reportError(e);
    return { out: lines.join("\n"), code };
  } finally {
    console.error = original;
  }
}

test("the CLI prints a user error as one line and anything else with its stack and a report request", async () => {
  const user = await report(new lib.MapError('map "m": key must be 4 bytes, got 2'));
  assert.equal(user.code, 1);
  assert.match(user.out, /^\S*error: map "m": key must be 4 bytes, got 2\S*$/);
  const internal = new Error("internal: no register for v3");
  const bugReport = await report(internal);
  assert.equal(bugReport.code, 70);
  assert.match(bugReport.out, /internal error: Error: internal: no register for v3\n\s+at /);
  assert.match(bugReport.out, /please report this/);
  const typeError = await report(new TypeError("x is not a function"));
  assert.equal(typeError.code, 70);
  // the compiler's errors too (not exported by the library: loading them loads TypeScript)
  const { CompileError } = await import("../../src/compiler/errors.js");
  const compile = Reflect.construct(CompileError, [1, "bad", "/p.ts", 1, 1]) as Error;
  assert.ok(compile instanceof TsbpfError && isUserError(compile));
});

test("the CLI treats plain errors as internal, typed and system-call errors as the user's", () => {
  assert.equal(isUserError(new Error("x")), false);
  assert.equal(isUserError(new TypeError("x")), false);
  assert.equal(isUserError(new RangeError("x")), false);
  assert.equal(isUserError("x"), false);
  assert.equal(isUserError(new lib.MapError("x")), true);
  assert.equal(isUserError(new types.TypeDefinitionError("x")), true);
  const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {
    code: "ENOENT",
    syscall: "open",
  });
  assert.equal(isUserError(enoent), true);
});
