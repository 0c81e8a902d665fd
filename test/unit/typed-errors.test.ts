// Every error a library user can hit is typed (issue 17): no `throw new Error(…)`, TypeError or
// RangeError creeps back into the library (src/ outside the compiler, which has CompileError and
// its internal-error scheme, and the CLI, which has UsageError). Internal invariants use bug()
// (src/bug.ts), whose message asks for a report; their sites are pinned below, so a new one is
// a decision someone makes, not an accident. And every typed class the library exports is one
// the CLI prints as a user error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "../support/cli-run.js";
import * as lib from "../../src/index.js";
import * as types from "../../src/types/index.js";
import { USER_ERRORS, isUserError } from "../../src/cli/main.js";
import { bug } from "../../src/bug.js";

const SRC = join(ROOT, "src");

/** Untyped errors the scan allows, by file: each is commented with why it may stay. */
const UNTYPED_ALLOWED: Record<string, number> = {
  // bug() itself: the one place an internal-invariant Error is made.
  "src/bug.ts": 1,
  // Probe declarations executed in Node by mistake. The module must stay free of runtime
  // dependencies and within the compiler's minimal lib (no class of its own); the message
  // says what to do.
  "src/probe/index.ts": 1,
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

/** Library sources: src/ without the compiler and the CLI. */
const library = sources(SRC)
  .map((p) => relative(ROOT, p))
  .filter((p) => !p.startsWith("src/compiler/") && !p.startsWith("src/cli/"))
  .sort();

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
  assert.ok(!library.some((p) => p.startsWith("src/compiler/") || p.startsWith("src/cli/")));
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

test("every exported error class names itself and is a user error to the CLI", () => {
  const classes = [...errorClasses(lib), ...errorClasses(types)];
  const names = classes.map(([n]) => n).sort();
  for (const expected of [
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
    if (exported === "VerifierError") continue; // printed with its log by reportError
    assert.ok(USER_ERRORS.has(exported), `${exported} is in the CLI's USER_ERRORS`);
    assert.ok(isUserError(instance), `${exported} prints as a user error`);
  }
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
  assert.ok(!USER_ERRORS.has("Error"));
});
