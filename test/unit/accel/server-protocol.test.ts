// The build server's wire format (src/accel/server-protocol.ts): requests round-trip, anything
// else a socket can deliver is refused with RequestError (never another exception), and
// records split at any byte boundary come out whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeFrame,
  encodeRequest,
  FrameKind,
  MAX_REQUEST,
  parseRequest,
  REQUEST_TAG,
  RequestError,
  Unframer,
  type BuildRequest,
} from "../../../src/accel/server-protocol.js";

const noNul = fc.string({ unit: "grapheme" }).filter((s) => !s.includes("\0"));
const request: fc.Arbitrary<BuildRequest> = fc.record({
  cwd: noNul.map((s) => `/${s}`),
  umask: fc.integer({ min: 0, max: 0o7777 }),
  stdoutTty: fc.boolean(),
  stderrTty: fc.boolean(),
  uid: fc.integer({ min: 0, max: 2 ** 31 }),
  argv: fc.array(noNul, { maxLength: 8 }),
  env: fc.dictionary(
    fc.oneof(
      noNul.filter((k) => k.length > 0 && !k.includes("=")),
      fc.constantFrom("valueOf", "constructor", "toString"),
    ),
    noNul,
    { maxKeys: 8 },
  ),
});

/** The payload the C client would send (what encodeRequest writes after the length). */
const payloadOf = (r: BuildRequest) => encodeRequest(r).subarray(4);

test("a request round-trips through encodeRequest and parseRequest", () => {
  fc.assert(
    fc.property(request, (r) => {
      // fast-check's records have no prototype; the parser's are plain objects
      assert.deepEqual(parseRequest(payloadOf(r)), JSON.parse(JSON.stringify(r)));
    }),
    { numRuns: 500 },
  );
});

test("the parser reads what the C client writes", () => {
  // native/tsbpf-client.c: tag, cwd, octal umask, tty flags, uid, argc, argv, environ
  const bytes = Buffer.from(
    [
      REQUEST_TAG,
      "/home/u/p",
      "22",
      "10",
      "1000",
      "2",
      "build",
      "probe.ts",
      "A=1",
      "B=x=y",
      "NOEQ",
      "A=2",
      "",
    ].join("\0"),
  );
  assert.deepEqual(parseRequest(bytes), {
    cwd: "/home/u/p",
    umask: 0o22,
    stdoutTty: true,
    stderrTty: false,
    uid: 1000,
    argv: ["build", "probe.ts"],
    // the first of two A= wins, as getenv() would find it; an entry without '=' is dropped
    env: { A: "1", B: "x=y" },
  });
});

test("malformed requests are refused with RequestError naming the field", () => {
  const good = ["tsbpf-build 2", "/", "22", "00", "0", "1", "build"];
  const cases: [string[], RegExp][] = [
    [["tsbpf-build 1", ...good.slice(1)], /unknown request tag/],
    [[good[0]!, "relative", ...good.slice(2)], /absolute/],
    [[...good.slice(0, 2), "99", ...good.slice(3)], /umask/],
    [[...good.slice(0, 3), "2", ...good.slice(4)], /terminal flags/],
    [[...good.slice(0, 4), "-1", ...good.slice(5)], /uid/],
    [[...good.slice(0, 5), "3", "build"], /argc is 3/],
    [[...good.slice(0, 5), "01", "build"], /argc/],
  ];
  for (const [fields, why] of cases)
    assert.throws(() => parseRequest(Buffer.from(fields.join("\0") + "\0")), why, fields.join("|"));
  assert.throws(() => parseRequest(Buffer.from(good.join("\0"))), /end with a NUL/);
  assert.throws(() => parseRequest(new Uint8Array()), RequestError);
});

test("random and mutated bytes never raise anything but RequestError", () => {
  const onlyRequestErrors = (bytes: Uint8Array) => {
    try {
      parseRequest(bytes);
    } catch (e) {
      if (!(e instanceof RequestError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), onlyRequestErrors), { numRuns: 2000 });
  fc.assert(
    fc.property(request, fc.nat(), fc.integer({ min: 0, max: 255 }), (r, at, byte) => {
      const bytes = Buffer.from(payloadOf(r));
      bytes[at % bytes.length] = byte;
      onlyRequestErrors(bytes);
    }),
    { numRuns: 2000 },
  );
});

test("frames and requests split at any boundary are reassembled in order", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          kind: fc.constantFrom(FrameKind.Stdout, FrameKind.Stderr, FrameKind.Exit),
          data: fc.uint8Array({ maxLength: 300 }),
        }),
        { maxLength: 6 },
      ),
      fc.array(fc.nat(), { maxLength: 10 }),
      (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f.kind, f.data)));
        const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const u = new Unframer(1);
        const got: { kind: number; data: Uint8Array }[] = [];
        let prev = 0;
        for (const c of [...at, stream.length]) {
          for (const r of u.push(stream.subarray(prev, c)))
            got.push({ kind: r.head, data: new Uint8Array(r.body) });
          prev = c;
        }
        assert.deepEqual(
          got,
          frames.map((f) => ({ kind: f.kind, data: new Uint8Array(f.data) })),
        );
        assert.equal(u.buffered, 0);
      },
    ),
    { numRuns: 500 },
  );
  const u = new Unframer(0);
  const [req] = u.push(
    encodeRequest({
      cwd: "/",
      umask: 0,
      stdoutTty: false,
      stderrTty: false,
      uid: 0,
      argv: ["build"],
      env: {},
    }),
  );
  assert.equal(parseRequest(req!.body).argv[0], "build");
});

test("a length over the limit is refused before the bytes arrive", () => {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(MAX_REQUEST + 1);
  assert.throws(() => new Unframer(0).push(head), /too large/);
});
