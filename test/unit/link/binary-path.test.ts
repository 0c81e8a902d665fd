import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { libraryMatches, parseProcMaps, resolveBinaryPath } from "../../../src/link/binary-path.js";
import { AttachError } from "../../../src/link/errors.js";

const ldconfigLibc = (): string => {
  const out = execFileSync("ldconfig", ["-p"], { encoding: "utf8" });
  const m = /^\s*libc\.so\.6 \(libc6,x86-64\) => (\S+)$/m.exec(out);
  if (!m) throw new Error("ldconfig -p lists no libc.so.6");
  return m[1]!;
};

test("libraryMatches", () => {
  assert.ok(libraryMatches("libc.so.6", "libc"));
  assert.ok(libraryMatches("libc.so.6", "libc.so.6"));
  assert.ok(libraryMatches("libc.so.6", "libc.so"));
  assert.ok(libraryMatches("libc-2.31.so", "libc"));
  assert.ok(!libraryMatches("libcap.so.2", "libc"));
  assert.ok(!libraryMatches("libc.something", "libc"));
  assert.ok(!libraryMatches("libcrypt.so.1", "libc.so"));
});

test("parseProcMaps keeps file mappings once, with exec bit and spaces in names", () => {
  const text = [
    "55d0c0000000-55d0c0001000 r--p 00000000 fd:01 123 /usr/bin/my app",
    "55d0c0001000-55d0c0002000 r-xp 00001000 fd:01 123 /usr/bin/my app",
    "7f0000000000-7f0000001000 r-xp 00000000 fd:01 456 /lib/libc.so.6 (deleted)",
    "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]",
    "7ffd00030000-7ffd00031000 rw-p 00000000 00:00 0",
  ].join("\n");
  assert.deepEqual(parseProcMaps(text), [
    { path: "/usr/bin/my app", exec: true },
    { path: "/lib/libc.so.6", exec: true },
  ]);
});

test("library names resolve like the dynamic linker does", () => {
  const libc = ldconfigLibc();
  assert.equal(resolveBinaryPath("libc"), libc);
  assert.equal(resolveBinaryPath("libc.so.6"), libc);
  assert.equal(resolveBinaryPath("/bin/true"), "/bin/true");
  assert.equal(
    realpathSync(resolveBinaryPath("true")),
    realpathSync(execFileSync("which", ["true"], { encoding: "utf8" }).trim()),
  );
});

test("with a pid, the library that process maps", () => {
  const maps = readFileSync(`/proc/${process.pid}/maps`, "utf8");
  const mapped = parseProcMaps(maps).find((f) => f.exec && /\/libc\.so\.6$/.test(f.path));
  assert.ok(mapped, "node maps libc");
  assert.equal(resolveBinaryPath("libc", { pid: process.pid }), mapped.path);
  assert.throws(() => resolveBinaryPath("libc", { pid: 0x3fffffff }), /is process \d+ running/);
});

test("unknown names name what was searched", () => {
  assert.throws(
    () => resolveBinaryPath("libdoesnotexist_tsbpf"),
    (e: unknown) =>
      e instanceof AttachError &&
      /"libdoesnotexist_tsbpf"/.test(e.message) &&
      /ld\.so\.cache/.test(e.message) &&
      /absolute path/.test(e.message),
  );
  assert.throws(() => resolveBinaryPath("./nope/x"), /does not exist/);
  assert.throws(() => resolveBinaryPath(""), /empty/);
});
