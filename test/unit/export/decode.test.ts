// Label decoders and the config checker: pure functions over untrusted input (map bytes from
// the kernel, config files from users), fuzzed with fast-check.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatIpv4,
  formatIpv6,
  makeDecoder,
  type DecoderSpec,
} from "../../../src/export/decode.js";
import { checkConfig } from "../../../src/export/config.js";
import { bucketBounds } from "../../../src/export/collector.js";
import { ExportError } from "../../../src/export/errors.js";
import { layoutOfType } from "../../../src/export/layout.js";
import { struct, be32, u32, u16, i16, u64, u8, array } from "../../../src/types/index.js";
import type { FieldLayout } from "../../../src/export/layout.js";

test("IPv6 text is RFC 5952's, as the WHATWG URL parser writes it", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 8 }),
      (bytes, zeroGroups) => {
        for (const g of zeroGroups) bytes[2 * g] = bytes[2 * g + 1] = 0; // runs of zeros
        const mapped =
          bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
        const text = formatIpv6(bytes);
        if (mapped) assert.equal(text, `::ffff:${formatIpv4(bytes.subarray(12))}`);
        else assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname);
      },
    ),
    { numRuns: 2000 },
  );
  assert.equal(formatIpv6(new Uint8Array(16)), "::");
  assert.equal(
    formatIpv6(Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1])),
    "2001:db8::1:0:0:1",
  );
});

test("every decoder turns any bytes into a string, never throws on content", () => {
  const specs: [DecoderSpec, number][] = [
    ["uint", 8],
    ["int", 4],
    ["ipv4", 4],
    ["ipv6", 16],
    ["ip", 4],
    ["ip", 16],
    ["string", 16],
    ["hex", 5],
    [{ enum: { "1": "one", "-1": "minus" } }, 2],
  ];
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 0, max: 8 }),
      (bytes, off) => {
        for (const [spec, size] of specs) {
          const f: FieldLayout = {
            name: "f",
            offset: off,
            size,
            int: { order: "little", signed: false },
          };
          const v = makeDecoder(f, spec, "t")(new DataView(bytes.buffer), 0);
          assert.equal(typeof v, "string");
        }
      },
    ),
  );
});

test("decoders: comm strings stop at NUL, be32/u32 addresses by their byte order, enum names", () => {
  const K = struct("K", {
    comm: array(u8, 16),
    net: be32,
    host: u32,
    port: u16,
    delta: i16,
    n: u64,
  });
  const layout = layoutOfType(K);
  const bytes = K.encode({
    comm: Uint8Array.from([...new TextEncoder().encode("sshd"), 0, 0x41, ...new Array(10).fill(0)]),
    net: 0x0a000001,
    host: 0x0a000002,
    port: 443,
    delta: -3,
    n: 2n ** 64n - 1n,
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = (field: string, spec?: DecoderSpec) =>
    makeDecoder(
      layout.fields.find((f) => f.name === field)!,
      spec,
      "t",
    )(view, 0);
  assert.equal(dec("comm", "string"), "sshd");
  assert.equal(dec("comm"), "7373686400410000000000000000000000".slice(0, 32));
  assert.equal(dec("net", "ipv4"), "10.0.0.1");
  assert.equal(dec("host", "ipv4"), "10.0.0.2");
  assert.equal(dec("port"), "443");
  assert.equal(dec("port", { enum: { "443": "https" } }), "https");
  assert.equal(dec("port", { enum: { "80": "http" } }), "443");
  assert.equal(dec("delta"), "-3");
  assert.equal(dec("n"), "18446744073709551615");
  assert.throws(() => dec("port", "ipv6"), /field "port" is 2 bytes; an IPv6 address is 16/);
  assert.throws(() => dec("comm", "uint"), /16 bytes; a number must be 1, 2, 4 or 8 bytes/);
  assert.throws(() => dec("port", "enum"), /not a C enum in the object's BTF: name its values/);
  assert.throws(() => dec("port", "nope" as DecoderSpec), /unknown decoder "nope"/);
});

test("bucket bounds: log2 as libbpf-tools' log2l, linear, multipliers", () => {
  const h = (buckets: object) =>
    ({ type: "histogram", name: "h", help: "h", map: "m", bucket: "b", buckets }) as never;
  assert.deepEqual(bucketBounds(h({ type: "log2", max: 4 }), "t"), [1, 3, 7, 15, 31]);
  assert.deepEqual(bucketBounds(h({ type: "log2", min: 2, max: 3, multiplier: 2 }), "t"), [14, 30]);
  assert.deepEqual(bucketBounds(h({ type: "linear", width: 5, max: 2 }), "t"), [4, 9, 14]);
  assert.throws(() => bucketBounds(h({ type: "log2", max: 63 }), "t"), /at most 62/);
  assert.throws(() => bucketBounds(h({ type: "linear", max: 2 }), "t"), /positive integer width/);
  assert.throws(() => bucketBounds(h({ type: "log2", min: 3, max: 2 }), "t"), /below buckets.min/);
});

test("the config checker names the metric and key at fault, and throws nothing but ExportError", () => {
  const ok = checkConfig({
    metrics: [
      {
        name: "a",
        type: "counter",
        help: "h",
        map: "m",
        labels: [{ name: "x", field: "f", decode: { enum: { "1": "one" } } }],
      },
      {
        name: "b_seconds",
        type: "histogram",
        unit: "seconds",
        help: "h",
        map: "m",
        bucket: "b",
        buckets: { type: "log2", max: 20, multiplier: 1e-6 },
        sum: "bucket",
      },
    ],
  });
  assert.equal(ok.metrics.length, 2);
  const bad = (m: object, re: RegExp) => assert.throws(() => checkConfig({ metrics: [m] }), re);
  bad(
    { name: "a", type: "counter", help: "h", map: "m", lables: [] },
    /metric a: unknown key "lables"/,
  );
  bad(
    { name: "a", type: "summary", help: "h", map: "m" },
    /metric a: "type" must be counter, gauge or histogram/,
  );
  bad({ name: "a", type: "counter", map: "m" }, /metric a: "help" must be a non-empty string/);
  bad(
    {
      name: "a",
      type: "histogram",
      help: "h",
      map: "m",
      bucket: "b",
      buckets: { type: "exp", max: 3 },
    },
    /buckets.type must be "log2" or "linear"/,
  );
  bad(
    { name: "a", type: "counter", help: "h", map: "m", labels: [{ name: "x", decode: 5 }] },
    /labels\[0\]: "decode" must be a decoder name/,
  );
  assert.throws(() => checkConfig([]), /expected \{ metrics: \[ … \] \}/);
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      try {
        checkConfig({ metrics: [v] });
      } catch (e) {
        assert.ok(e instanceof ExportError, String(e));
      }
      try {
        checkConfig(v);
      } catch (e) {
        assert.ok(e instanceof ExportError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
});
