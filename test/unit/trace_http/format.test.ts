// The trace_http loader's output helpers: client address and request line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isIP } from "node:net";
import fc from "fast-check";
import { clientAddress, ipv4, ipv6, requestLine } from "../../../examples/trace_http/format.js";

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

/** An Ethernet frame header with the given EtherType, then `rest`. */
function frame(etherType: number, rest: number[]): Uint8Array {
  return new Uint8Array([
    ...new Array<number>(12).fill(0),
    etherType >> 8,
    etherType & 0xff,
    ...rest,
  ]);
}

test("ipv4: dotted quad of a host-order number", () => {
  assert.equal(ipv4(0x0a000001), "10.0.0.1");
  assert.equal(ipv4(0xc0a8ff02), "192.168.255.2");
  assert.equal(ipv4(0), "0.0.0.0");
  assert.equal(ipv4(0xffffffff), "255.255.255.255");
});

test("ipv6: RFC 5952 text", () => {
  const a = (words: number[]) => new Uint8Array(words.flatMap((w) => [w >> 8, w & 0xff]));
  assert.equal(ipv6(a([0xfd00, 0x200, 0, 0, 0, 0, 0, 2])), "fd00:200::2");
  assert.equal(ipv6(a([0, 0, 0, 0, 0, 0, 0, 1])), "::1");
  assert.equal(ipv6(a([0, 0, 0, 0, 0, 0, 0, 0])), "::");
  assert.equal(ipv6(a([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1])), "2001:db8:0:1::1", "longest run wins");
  assert.equal(
    ipv6(a([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])),
    "2001:db8::1:0:0:1",
    "first of equal runs",
  );
  assert.equal(
    ipv6(a([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1])),
    "2001:db8:0:1:1:1:1:1",
    "one zero stays",
  );
  assert.equal(ipv6(a([0xfe80, 0, 0, 0, 0, 0, 0, 0])), "fe80::");
  assert.throws(() => ipv6(new Uint8Array(4)), /16 bytes, not 4/);
});

test("ipv6: agrees with Node's own canonical form", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
        minLength: 8,
        maxLength: 8,
      }),
      (words) => {
        const text = ipv6(new Uint8Array(words.flatMap((w) => [w >> 8, w & 0xff])));
        assert.equal(isIP(text), 6);
        // URL parsing canonicalises IPv6 hosts per RFC 5952 as well.
        assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
      },
    ),
  );
});

test("clientAddress: IPv4 from RequestInfo, IPv6 from the frame", () => {
  assert.equal(clientAddress(0x0ac80002, frame(0x0800, new Array(40).fill(0))), "10.200.0.2");
  const v6 = frame(0x86dd, [
    ...new Array<number>(8).fill(0),
    0xfd,
    0x00,
    0x02,
    0x00,
    ...new Array<number>(11).fill(0),
    0x02, // source
    ...new Array<number>(16).fill(0xff), // destination
  ]);
  assert.equal(clientAddress(0, v6), "fd00:200::2");
  // An IPv6 frame cut before the end of its source address falls back to saddr.
  assert.equal(clientAddress(0, v6.subarray(0, 14 + 8 + 15)), "0.0.0.0");
  assert.equal(clientAddress(0x7f000001, new Uint8Array(0)), "127.0.0.1");
});

test("requestLine: up to the first line break", () => {
  assert.equal(requestLine(bytes("GET /foo HTTP/1.1\r\nHost: x\r\n\r\n")), "GET /foo HTTP/1.1");
  assert.equal(requestLine(bytes("GET /foo HTTP/1.0\nHost: x\n")), "GET /foo HTTP/1.0");
  assert.equal(requestLine(bytes("POST /cut-short")), "POST /cut-short");
  assert.equal(requestLine(bytes("\r\n")), "");
  assert.equal(requestLine(bytes("")), "");
  assert.equal(requestLine(bytes("GET /a\rb HTTP/1.1\r\n")), "GET /a\rb HTTP/1.1", "lone CR kept");
  const inside = bytes("xxGET / HTTP/1.1\r\n").subarray(2);
  assert.equal(requestLine(inside), "GET / HTTP/1.1", "views at an offset");
});

test("requestLine: never contains a line break, never longer than its input", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const line = requestLine(b);
      assert.ok(!line.includes("\n"));
      assert.ok(line.length <= b.length);
      assert.ok(!line.endsWith("\r") || !Buffer.from(b).includes("\r\n"));
    }),
  );
});
