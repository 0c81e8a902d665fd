// USDT notes and argument specs: readUsdtNotes against readelf on a gcc-built sys/sdt.h
// program, parseUsdtArgs on every operand form (and the ones it must refuse), the
// struct __bpf_usdt_spec bytes, and a fuzz run over damaged note sections.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { ElfBinary } from "../../../src/link/elf-symbols.js";
import { AttachError, FormatError } from "../../../src/link/errors.js";
import {
  encodeUsdtSpec,
  parseUsdtArgs,
  readUsdtNotes,
  UsdtArgType,
  USDT_SPEC_SIZE,
} from "../../../src/link/usdt-notes.js";

const root = join(import.meta.dirname, "..", "..", "..", "..");
const sdt = ["/usr/include/sys/sdt.h", "/usr/include/x86_64-linux-gnu/sys/sdt.h"].some((p) =>
  existsSync(p),
);
const hasGcc = spawnSync("gcc", ["--version"], { stdio: "ignore" }).status === 0;

/** Builds test/fixtures/c/usdt_target.c into a temp dir (needs gcc and systemtap-sdt-dev). */
function withTarget(t: { skip(m: string): void }, body: (path: string) => void): void {
  if (!hasGcc || !sdt) {
    const why = "gcc and sys/sdt.h (systemtap-sdt-dev) are needed: make deps";
    if (process.env["CI"] === "true") assert.fail(why);
    return t.skip(why);
  }
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-usdt-"));
  try {
    const exe = join(dir, "usdt_target");
    execFileSync("gcc", ["-O1", join(root, "test/fixtures/c/usdt_target.c"), "-o", exe]);
    body(exe);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("readUsdtNotes reads what readelf -n shows", (t) => {
  withTarget(t, (exe) => {
    const notes = readUsdtNotes(ElfBinary.parse(new Uint8Array(readFileSync(exe)), exe));
    const text = execFileSync("readelf", ["-n", exe], { encoding: "utf8" });
    const want = [
      ...text.matchAll(
        /Provider: (\S+)\s+Name: (\S+)\s+Location: (0x[0-9a-f]+), Base: 0x[0-9a-f]+, Semaphore: (0x[0-9a-f]+)\s+Arguments: ([^\n]*)/g,
      ),
    ].map((m) => ({
      provider: m[1],
      name: m[2],
      address: Number(m[3]),
      semaphore: Number(m[4]),
      args: m[5]!.trim(),
    }));
    assert.equal(want.length, 2);
    assert.deepEqual(notes, want);
    assert.ok(notes.every((n) => n.semaphore !== 0));
    // Every argument of the fixture's probes is one parseUsdtArgs decodes.
    for (const n of notes) parseUsdtArgs(n.args, n.name, "x64");
  });
});

test("parseUsdtArgs: constants, registers, memory operands; sizes and signedness", () => {
  const specs = parseUsdtArgs(
    "-4@$-9 8@%rax -2@%cx 1@%dil 4@12(%rsp) -8@-1204(%rbp) 8@(%r12)",
    "p",
    "x64",
  );
  assert.deepEqual(specs, [
    { type: UsdtArgType.CONST, valOff: 2n ** 64n - 9n, regOff: 0, signed: true, bitshift: 32 },
    { type: UsdtArgType.REG, valOff: 0n, regOff: 80, signed: false, bitshift: 0 },
    { type: UsdtArgType.REG, valOff: 0n, regOff: 88, signed: true, bitshift: 48 },
    { type: UsdtArgType.REG, valOff: 0n, regOff: 112, signed: false, bitshift: 56 },
    { type: UsdtArgType.REG_DEREF, valOff: 12n, regOff: 152, signed: false, bitshift: 32 },
    {
      type: UsdtArgType.REG_DEREF,
      valOff: 2n ** 64n - 1204n,
      regOff: 32,
      signed: true,
      bitshift: 0,
    },
    { type: UsdtArgType.REG_DEREF, valOff: 0n, regOff: 24, signed: false, bitshift: 0 },
  ]);
  assert.deepEqual(parseUsdtArgs("  ", "p", "x64"), []);
  const refuses = (args: string, re: RegExp) =>
    assert.throws(
      () => parseUsdtArgs(args, "tsbpf:x", "x64"),
      (e) => e instanceof AttachError && re.test(e.message),
    );
  refuses("8@-16(%rbp,%rax,8)", /argument #0 "8@-16\(%rbp,%rax,8\)": this operand form/);
  refuses("4@%eax 8@var(%rip)", /argument #1 .*%rip-relative/);
  refuses("3@%eax", /size 3 is not 1, 2, 4 or 8/);
  refuses("8@%xmm0", /register %xmm0 is not one/);
  refuses("%eax", /expected SIZE@OPERAND/);
  refuses(Array(13).fill("8@%rax").join(" "), /13 arguments, usdt.bpf.h holds 12/);
  assert.throws(() => parseUsdtArgs("8@x0", "p", "arm64"), /x86-64 only, not arm64/);
});

test("encodeUsdtSpec lays out struct __bpf_usdt_spec as usdt.bpf.h does", () => {
  const b = encodeUsdtSpec(parseUsdtArgs("-4@$42 8@-16(%rbp)", "p", "x64"), 0x1122334455667788n);
  assert.equal(b.length, USDT_SPEC_SIZE);
  const dv = new DataView(b.buffer);
  // args[0]: val_off 42, arg_type CONST, reg_off 0, signed, bitshift 32
  assert.deepEqual(
    [dv.getBigUint64(0, true), dv.getUint32(8, true), dv.getInt16(12, true), b[14], b[15]],
    [42n, 0, 0, 1, 32],
  );
  // args[1]: val_off -16, REG_DEREF, reg_off 32 (rbp), unsigned, bitshift 0
  assert.deepEqual(
    [dv.getBigInt64(16, true), dv.getUint32(24, true), dv.getInt16(28, true), b[30], b[31]],
    [-16n, 2, 32, 0, 0],
  );
  assert.equal(dv.getBigUint64(192, true), 0x1122334455667788n); // usdt_cookie
  assert.equal(dv.getInt16(200, true), 2); // arg_cnt
});

test("readUsdtNotes on damaged note sections throws only FormatError", (t) => {
  withTarget(t, (exe) => {
    const base = new Uint8Array(readFileSync(exe));
    const sec = ElfBinary.parse(base, exe).sectionContents(".note.stapsdt")!.header;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(sec.size - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 20,
        }),
        (edits) => {
          const b = base.slice();
          for (const [at, v] of edits) b[sec.offset + at] = v;
          try {
            for (const n of readUsdtNotes(ElfBinary.parse(b, "fuzz")))
              try {
                parseUsdtArgs(n.args, n.name, "x64");
              } catch (e) {
                if (!(e instanceof AttachError)) throw e;
              }
          } catch (e) {
            if (!(e instanceof FormatError)) throw e;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
