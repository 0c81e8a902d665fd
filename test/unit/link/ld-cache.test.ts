import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { parseLdCache, type LdCacheEntry } from "../../../src/link/ld-cache.js";
import { FormatError } from "../../../src/link/errors.js";

/** Build a "glibc-ld.so.cache1.1" image, optionally behind an old-format table. */
function encode(entries: LdCacheEntry[], withOld = false): Uint8Array {
  const enc = new TextEncoder();
  const strings: number[] = [];
  const header = 48 + entries.length * 24;
  const offs = entries.map((e) => {
    const n = header + strings.length;
    strings.push(...enc.encode(e.name), 0);
    const p = header + strings.length;
    strings.push(...enc.encode(e.path), 0);
    return [n, p] as const;
  });
  const body = new Uint8Array(header + strings.length);
  const dv = new DataView(body.buffer);
  body.set(enc.encode("glibc-ld.so.cache1.1"));
  dv.setUint32(20, entries.length, true);
  dv.setUint32(24, strings.length, true);
  entries.forEach((e, i) => {
    const o = 48 + i * 24;
    dv.setInt32(o, e.flags, true);
    dv.setUint32(o + 4, offs[i]![0], true);
    dv.setUint32(o + 8, offs[i]![1], true);
  });
  body.set(strings, header);
  if (!withOld) return body;
  const old = new Uint8Array(16 + 3 * 12 + 4); // 3 old entries, padded to 8
  old.set(enc.encode("ld.so-1.7.0"));
  new DataView(old.buffer).setUint32(12, 3, true);
  const all = new Uint8Array(old.length + body.length);
  all.set(old);
  all.set(body, old.length);
  return all;
}

test("round-trips synthetic caches, with and without the old-format prefix", () => {
  const entries = [
    { name: "libc.so.6", path: "/lib/x86_64-linux-gnu/libc.so.6", flags: 0x303 },
    { name: "libz.so.1", path: "/usr/lib/libz.so.1", flags: 0x303 },
  ];
  assert.deepEqual(parseLdCache(encode(entries)), entries);
  assert.deepEqual(parseLdCache(encode(entries, true)), entries);
});

test("the system cache agrees with ldconfig -p", (t) => {
  if (!existsSync("/etc/ld.so.cache")) return t.skip("no /etc/ld.so.cache");
  const parsed = parseLdCache(readFileSync("/etc/ld.so.cache"));
  const out = execFileSync("ldconfig", ["-p"], { encoding: "utf8" });
  const lines = out.split("\n").filter((l) => l.includes("=>"));
  assert.equal(parsed.length, lines.length);
  for (const [i, l] of lines.entries()) {
    const m = /^\s*(\S+) \(.*\) => (\S+)$/.exec(l)!;
    assert.equal(parsed[i]!.name, m[1]);
    assert.equal(parsed[i]!.path, m[2]);
  }
});

test("malformed caches are FormatErrors", () => {
  assert.throws(() => parseLdCache(new Uint8Array(0)), FormatError);
  const good = encode([{ name: "a", path: "/a", flags: 3 }]);
  const huge = good.slice();
  new DataView(huge.buffer).setUint32(20, 0xffffffff, true);
  assert.throws(() => parseLdCache(huge), /does not fit/);
  const badStr = good.slice();
  new DataView(badStr.buffer).setUint32(48 + 4, 1e6, true);
  assert.throws(() => parseLdCache(badStr), /bad string offset/);
});

test("property: corrupted caches parse or fail with FormatError only", () => {
  const base = encode(
    Array.from({ length: 5 }, (_, i) => ({
      name: `lib${i}.so`,
      path: `/l/lib${i}.so`,
      flags: 0x303,
    })),
    true,
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { maxLength: 20 }),
      (edits) => {
        const b = base.slice();
        for (const [at, v] of edits) b[at] = v;
        try {
          parseLdCache(b);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
        }
      },
    ),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      try {
        parseLdCache(b);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }),
  );
});
