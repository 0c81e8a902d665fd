// Symbol → file offset for uprobes, checked against binutils on real binaries: the bytes at
// the offset we compute must be the bytes objdump shows at the symbol's address.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { ElfBinary, splitVersion } from "../../../src/link/elf-symbols.js";
import { AttachError, FormatError } from "../../../src/link/errors.js";

const LIBC = "/lib/x86_64-linux-gnu/libc.so.6";
const hasGcc = spawnSync("gcc", ["--version"], { stdio: "ignore" }).status === 0;

/** Address of a dynamic/static symbol as nm prints it ("name@@VER" spelled like nm). */
function nmAddress(path: string, name: string, dynamic: boolean): number {
  const out = execFileSync("nm", [...(dynamic ? ["-D"] : []), "--with-symbol-versions", path], {
    encoding: "utf8",
  });
  for (const line of out.split("\n")) {
    const [addr, , sym] = line.trim().split(/\s+/);
    if (sym === name && addr) return parseInt(addr, 16);
  }
  throw new Error(`nm: no ${name} in ${path}`);
}

/** The first 16 bytes objdump shows at a virtual address. */
function objdumpBytes(path: string, addr: number): string {
  const out = execFileSync(
    "objdump",
    [
      "-s",
      "-j",
      ".text",
      `--start-address=0x${addr.toString(16)}`,
      `--stop-address=0x${(addr + 16).toString(16)}`,
      path,
    ],
    { encoding: "utf8" },
  );
  const hex = out
    .split("\n")
    .filter((l) => /^ [0-9a-f]+ /.test(l))
    .map((l) => l.slice(1).split(/\s+/).slice(1, 5).join(""))
    .join("");
  return hex.slice(0, 32);
}

const fileHex = (bytes: Uint8Array, off: number) =>
  Buffer.from(bytes.subarray(off, off + 16)).toString("hex");

/** The file bytes at `off` agree with objdump's view at `addr` (which ends early at section end). */
function sameCode(bytes: Uint8Array, off: number, path: string, addr: number, what: string): void {
  const want = objdumpBytes(path, addr);
  assert.ok(want.length >= 6, `objdump shows bytes for ${what}`);
  assert.equal(fileHex(bytes, off).slice(0, want.length), want, what);
}

test("splitVersion", () => {
  assert.deepEqual(splitVersion("malloc"), { name: "malloc", isDefault: true });
  assert.deepEqual(splitVersion("malloc@@GLIBC_2.2.5"), {
    name: "malloc",
    version: "GLIBC_2.2.5",
    isDefault: true,
  });
  assert.deepEqual(splitVersion("memcpy@GLIBC_2.2.5"), {
    name: "memcpy",
    version: "GLIBC_2.2.5",
    isDefault: false,
  });
});

test("libc: default and explicit versions resolve to the bytes objdump shows", () => {
  const bytes = new Uint8Array(readFileSync(LIBC));
  const elf = ElfBinary.parse(bytes, LIBC);
  const malloc = elf.functionOffset("malloc");
  assert.equal(elf.functionOffset("malloc@@GLIBC_2.2.5"), malloc);
  assert.equal(elf.functionOffset("malloc@GLIBC_2.2.5"), malloc);
  sameCode(bytes, malloc, LIBC, nmAddress(LIBC, "malloc@@GLIBC_2.2.5", true), "malloc");
  // memcpy has two versions at different addresses: the default wins, the old one is nameable.
  const memcpyNew = elf.functionOffset("memcpy");
  const memcpyOld = elf.functionOffset("memcpy@GLIBC_2.2.5");
  assert.notEqual(memcpyNew, memcpyOld);
  assert.equal(elf.functionOffset("memcpy@@GLIBC_2.14"), memcpyNew);
  sameCode(
    bytes,
    memcpyOld,
    LIBC,
    nmAddress(LIBC, "memcpy@GLIBC_2.2.5", true),
    "memcpy@GLIBC_2.2.5",
  );
  assert.throws(() => elf.functionOffset("memcpy@@GLIBC_2.2.5"), AttachError); // not the default
  assert.throws(
    () => elf.functionOffset("no_such_function_xyz"),
    (e: unknown) =>
      e instanceof AttachError && /no function no_such_function_xyz in .*libc/.test(e.message),
  );
});

test("executable linked away from offset 0: .symtab statics, weak symbols, ambiguity", (t) => {
  if (!hasGcc) return t.skip("gcc not installed");
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-elfsym-"));
  try {
    writeFileSync(
      join(dir, "a.c"),
      `__attribute__((noinline)) static int helper(int x) { return x * 3 + 1; }
       __attribute__((noinline)) int exported_fn(int x) { return helper(x) + 2; }
       __attribute__((noinline, weak)) int weak_fn(int x) { return x - 5; }
       int a_main(int x) { return exported_fn(x) + weak_fn(x); }`,
    );
    writeFileSync(
      join(dir, "b.c"),
      `__attribute__((noinline)) static int helper(int x) { return x ^ 0x55; }
       int a_main(int); int b_use(int x) { return helper(x); }
       int main(int c, char **v) { (void)v; return a_main(c) + b_use(c); }`,
    );
    const exe = join(dir, "t");
    // Non-PIE at a high text base: addresses differ from file offsets, as in real executables.
    execFileSync("gcc", [
      "-O1",
      "-no-pie",
      "-fno-inline",
      "-Wl,-Ttext-segment=0x800000",
      join(dir, "a.c"),
      join(dir, "b.c"),
      "-o",
      exe,
    ]);
    const bytes = new Uint8Array(readFileSync(exe));
    const elf = ElfBinary.parse(bytes, exe);
    for (const name of ["exported_fn", "weak_fn", "a_main", "b_use", "main"]) {
      const off = elf.functionOffset(name);
      const addr = nmAddress(exe, name, false);
      assert.ok(addr >= 0x800000, `${name} linked high`);
      assert.notEqual(off, addr);
      sameCode(bytes, off, exe, addr, name);
    }
    // Two static functions named helper at different addresses: refuse to guess.
    assert.throws(
      () => elf.functionOffset("helper"),
      (e: unknown) =>
        e instanceof AttachError &&
        /helper is ambiguous/.test(e.message) &&
        /at 0x/.test(e.message),
    );
    const listed = [...elf.functions()].filter((s) => s.name === "helper");
    assert.equal(listed.length, 2);
    assert.ok(listed.every((s) => s.table === ".symtab"));
    // Stripped: only what .dynsym keeps (nothing for a non-PIE without -rdynamic).
    execFileSync("strip", [exe]);
    const stripped = ElfBinary.parse(new Uint8Array(readFileSync(exe)), exe);
    assert.throws(() => stripped.functionOffset("helper"), /stripped binary/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rejects what is not a 64-bit little-endian ELF with FormatError", () => {
  assert.throws(() => ElfBinary.parse(new Uint8Array(10)), FormatError);
  const b = new Uint8Array(readFileSync(LIBC).subarray(0, 64));
  b[4] = 1;
  assert.throws(() => ElfBinary.parse(b), /32-bit/);
});

test("property: arbitrary corruption of a real ELF only ever yields FormatError/AttachError", () => {
  const base = new Uint8Array(readFileSync("/bin/true"));
  const lib = ElfBinary.parse(base, "/bin/true");
  assert.ok([...lib.functions()].length >= 0);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 40,
      }),
      fc.boolean(),
      (edits, headerOnly) => {
        const b = base.slice();
        for (const [at, v] of edits) b[headerOnly ? at % 128 : at] = v;
        try {
          const e = ElfBinary.parse(b, "fuzz");
          let n = 0;
          for (const s of e.functions()) {
            e.fileOffset(s);
            if (++n > 100_000) break;
          }
          e.functionOffset("main");
        } catch (err) {
          if (!(err instanceof FormatError || err instanceof AttachError)) throw err;
        }
      },
    ),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      try {
        const e = ElfBinary.parse(bytes);
        for (const s of e.functions()) e.fileOffset(s);
      } catch (err) {
        if (!(err instanceof FormatError || err instanceof AttachError)) throw err;
      }
    }),
  );
});
