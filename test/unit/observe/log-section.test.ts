// The `.tsbpf.log` section and log records (obj/log-section.ts): formatting of every argument
// kind, the section a compiled probe carries, and — the section and records being input from
// a file and the kernel — property tests that malformed bytes give LogSectionError, never
// another exception or a wrong line.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeLogRecord,
  decodeLogSection,
  encodeLogSection,
  formatLogArg,
  logLineText,
  LogSectionError,
  type LogFormat,
} from "../../../src/obj/log-section.js";
import { parseObject } from "../../../src/obj/object.js";
import { compileSource } from "../compiler/support.js";

const bytes = (...b: number[]) => new Uint8Array(b);
const le64 = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
};

test("argument kinds print as a user of bpftrace, aya-log or ip(8) reads them", () => {
  assert.equal(formatLogArg("int", le64(-5n)), "-5");
  assert.equal(formatLogArg("uint", le64(-1n)), "18446744073709551615");
  assert.equal(formatLogArg("hex", le64(0xbeefn)), "0xbeef");
  assert.equal(formatLogArg("ipv4", bytes(1, 2, 0, 10)), "10.0.2.1");
  assert.equal(formatLogArg("mac", bytes(2, 0xaa, 0, 1, 0xff, 9)), "02:aa:00:01:ff:09");
  assert.equal(formatLogArg("str", new TextEncoder().encode("bash\0\0junk")), "bash");
  assert.equal(
    formatLogArg("str", new TextEncoder().encode("sixteen-bytes-xx")),
    "sixteen-bytes-xx",
  );
  const v6 = (...w: number[]) => new Uint8Array(w.flatMap((x) => [x >> 8, x & 255]));
  assert.equal(formatLogArg("ipv6", v6(0, 0, 0, 0, 0, 0, 0, 1)), "::1");
  assert.equal(formatLogArg("ipv6", v6(0, 0, 0, 0, 0, 0, 0, 0)), "::");
  assert.equal(formatLogArg("ipv6", v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 5)), "2001:db8::1:0:0:5");
  assert.equal(formatLogArg("ipv6", v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)), "2001:db8:0:1:1:1:1:1");
  assert.equal(formatLogArg("ipv6", v6(0xfe80, 0, 0, 0, 0xa, 0, 0, 0)), "fe80::a:0:0:0");
  assert.equal(formatLogArg("ipv6", v6(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001)), "::ffff:10.0.0.1");
});

test("the compiler writes one format per log call, arguments laid out after the u64 id", () => {
  const c = compileSource(`
import { log, ipv4, hex } from "tsbpf/probe";
export const p = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  if (ip && ip.version === 4) log.warn\`\${ip.saddr} → \${ipv4(7)} len \${ctx.len()} \${hex(3)} \${"k"}\${1 + 1}!\`;
  log.info\`plain\`;
  return XdpAction.Pass;
});`);
  const o = parseObject(c.elf);
  assert.deepEqual(
    o.logFormats!.map(({ file: _f, ...f }) => f),
    [
      {
        level: "warn",
        text: ["", " → ", " len ", " ", " k2!"],
        args: [
          { kind: "ipv4", offset: 8, size: 4 },
          { kind: "ipv4", offset: 12, size: 4 },
          { kind: "int", offset: 16, size: 8 },
          { kind: "hex", offset: 24, size: 8 },
        ],
        size: 32,
        line: 8,
      },
      { level: "info", text: ["plain"], args: [], size: 8, line: 9 },
    ],
  );
  assert.deepEqual(
    o.maps.map((m) => m.name),
    [".bss", ".data.tsbpf_log", "tsbpf_log"],
  );
  const rec = new Uint8Array(32);
  rec.set([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 10, 7, 0, 0, 0]);
  rec.set(le64(98n), 16);
  rec.set(le64(3n), 24);
  assert.equal(
    logLineText(decodeLogRecord(o.logFormats!, rec)),
    "[WARN] 10.0.0.1 → 0.0.0.7 len 98 0x3 k2!",
  );
});

test("a probe without log calls gets no log map, globals or section", () => {
  const o = parseObject(compileSource(`export const p = xdp(() => XdpAction.Pass);`).elf);
  assert.equal(o.logFormats, undefined);
  assert.deepEqual(o.maps, []);
});

const FORMAT: LogFormat = {
  level: "info",
  text: ["a ", " b ", ""],
  args: [
    { kind: "uint", offset: 8, size: 8 },
    { kind: "str", offset: 16, size: 16 },
  ],
  size: 32,
  file: "p.ts",
  line: 3,
};

test("decodeLogSection round-trips and rejects what is not a section", () => {
  assert.deepEqual(decodeLogSection(encodeLogSection([FORMAT])), [FORMAT]);
  const bad = (s: string, re: RegExp) =>
    assert.throws(() => decodeLogSection(new TextEncoder().encode(s)), re);
  bad("{", /not UTF-8 JSON/);
  bad('{"version":2,"formats":[]}', /expected \{ version: 1/);
  bad(JSON.stringify({ version: 1, formats: [{ ...FORMAT, level: "loud" }] }), /unknown level/);
  bad(JSON.stringify({ version: 1, formats: [{ ...FORMAT, text: ["x"] }] }), /format 0: args/);
  bad(JSON.stringify({ version: 1, formats: [{ ...FORMAT, size: 24 }] }), /format 0: argument/);
  assert.throws(() => decodeLogRecord([FORMAT], new Uint8Array(16)), /16 bytes, expected 32/);
  assert.throws(() => decodeLogRecord([FORMAT], le64(1n)), /unknown format id 1/);
});

test("property: any bytes as a section or a record give formats/lines or LogSectionError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      try {
        decodeLogSection(b);
      } catch (e) {
        assert.ok(e instanceof LogSectionError, String(e));
      }
    }),
  );
  // structurally valid JSON with arbitrary values in every field
  const anyFormat = fc.record({
    level: fc.constantFrom("info", "debug", "x"),
    text: fc.array(fc.string(), { maxLength: 4 }),
    args: fc.array(
      fc.record({
        kind: fc.constantFrom("int", "uint", "hex", "ipv4", "ipv6", "mac", "str", "?"),
        offset: fc.integer({ min: -4, max: 80 }),
        size: fc.integer({ min: -1, max: 40 }),
      }),
      { maxLength: 3 },
    ),
    size: fc.integer({ min: 0, max: 96 }),
  });
  fc.assert(
    fc.property(
      fc.array(anyFormat, { maxLength: 3 }),
      fc.uint8Array({ maxLength: 100 }),
      (fs, rec) => {
        let formats: LogFormat[];
        try {
          formats = decodeLogSection(
            new TextEncoder().encode(JSON.stringify({ version: 1, formats: fs })),
          );
        } catch (e) {
          assert.ok(e instanceof LogSectionError, String(e));
          return;
        }
        try {
          const l = decodeLogRecord(formats, rec);
          assert.equal(typeof l.message, "string");
        } catch (e) {
          assert.ok(e instanceof LogSectionError, String(e));
        }
      },
    ),
  );
});
