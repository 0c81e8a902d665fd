// BpfMap's own logic against the fake addon (test/support/fake-kernel.ts): what it checks
// before any syscall, how it maps errnos to answers and errors, when iteration ends, and fd
// ownership. The kernel tests (test/kernel/map.test.ts) check the same API against Linux.
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { FakeKernel } from "../../support/fake-kernel.js";
import { BpfMap, MapError } from "../../../src/map/map.js";
import { MapType } from "../../../src/obj/consts.js";
import { Cmd } from "../../../src/sys/bpf.js";
import { Errno, SysError } from "../../../src/sys/errors.js";
import { u32, u64 } from "../../../src/types/int.js";

let kernel: FakeKernel;
let restore: () => void;
beforeEach(() => {
  kernel = new FakeKernel();
  restore = kernel.install();
});
afterEach(() => restore());

const hash = (maxEntries = 4) =>
  BpfMap.create(
    { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries, name: "h" },
    { key: u32, value: u64 },
  );

const errno = (n: number) => (e: unknown) => e instanceof SysError && e.errno === n;

test("sizes are checked before any syscall: raw keys/values of the wrong length, codecs of the wrong size", () => {
  using m = BpfMap.create({
    type: MapType.HASH,
    keySize: 4,
    valueSize: 8,
    maxEntries: 4,
    name: "raw",
  });
  const before = kernel.bpfCalls.length;
  assert.throws(
    () => m.set(new Uint8Array(3), new Uint8Array(8)),
    (e: unknown) => e instanceof MapError && /key must be 4 bytes, got 3/.test(e.message),
  );
  assert.throws(
    () => m.set(new Uint8Array(4), new Uint8Array(9)),
    (e: unknown) => e instanceof MapError && /value must be 8 bytes, got 9/.test(e.message),
  );
  assert.throws(() => m.get(new Uint8Array(5)), MapError);
  assert.deepEqual(kernel.bpfCalls.slice(before), [], "nothing reached the kernel");
  assert.throws(
    () => m.withCodecs({ key: u64 }),
    (e: unknown) =>
      e instanceof MapError &&
      /key codec encodes 8 bytes but the map's key size is 4/.test(e.message),
  );
});

test("a codec of the wrong size given at create closes the map it made", () => {
  assert.throws(
    () =>
      BpfMap.create(
        { type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 },
        { key: u32, value: u32 },
      ),
    (e: unknown) => e instanceof MapError && /value codec encodes 4 bytes/.test(e.message),
  );
  assert.deepEqual(kernel.openFds, [], "no fd left open");
});

test("errnos that are answers become values; the others are SysErrors naming the map", () => {
  using m = hash(2);
  assert.equal(m.get(1), undefined); // ENOENT
  assert.equal(m.has(1), false);
  assert.equal(m.delete(1), false);
  m.set(1, 10n);
  assert.equal(m.get(1), 10n);
  assert.throws(() => m.set(1, 11n, "noexist"), errno(Errno.EEXIST));
  assert.throws(() => m.set(2, 20n, "exist"), errno(Errno.ENOENT));
  m.set(2, 20n, "noexist");
  assert.throws(
    () => m.set(3, 30n),
    (e: unknown) => errno(Errno.E2BIG)(e) && /map "h"/.test((e as Error).message),
  );
  assert.equal(m.delete(1), true);
  assert.equal(m.get(1), undefined);
  assert.equal(m.get(2), 20n);
});

test("array maps: every index exists, elements cannot be deleted, out of range is absent", () => {
  using a = BpfMap.create(
    { type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 3 },
    { key: u32, value: u64 },
  );
  assert.equal(a.get(2), 0n);
  assert.equal(a.get(3), undefined);
  a.set(1, 7n);
  assert.equal(a.get(1), 7n);
  assert.throws(() => a.delete(1), errno(Errno.EINVAL));
  assert.throws(() => a.set(3, 1n), errno(Errno.E2BIG));
  assert.deepEqual([...a.keysSync()], [0, 1, 2]);
});

test("iteration ends: empty map, whole map, deleting while iterating, clear()", async () => {
  using m = hash(8);
  assert.deepEqual([...m.keysSync()], []);
  for (const k of [5, 6, 7]) m.set(k, BigInt(k) * 2n);
  assert.deepEqual(
    [...m.entriesSync()],
    [
      [5, 10n],
      [6, 12n],
      [7, 14n],
    ],
  );
  const seen: number[] = [];
  for await (const k of m.keys()) seen.push(k);
  assert.deepEqual(seen, [5, 6, 7]);
  // Deleting the current key: GET_NEXT_KEY restarts from the first key, as the kernel's does.
  const visited: number[] = [];
  for (const k of m.keysSync()) {
    visited.push(k);
    m.delete(k);
    assert.ok(visited.length <= 3, "iteration terminates");
  }
  assert.deepEqual(visited, [5, 6, 7]);
  for (const k of [1, 2]) m.set(k, 0n);
  assert.equal(m.clear(), 2);
  assert.deepEqual([...m.keysSync()], []);
});

test("a closed map says so; close() twice closes the fd once; views share the fd", () => {
  const m = hash();
  const view = m.withCodecs({});
  const fd = m.fd;
  m.close();
  m.close();
  view.close();
  assert.deepEqual(
    kernel.closes.filter((c) => c.fd === fd),
    [{ fd, result: 0 }],
  );
  assert.throws(
    () => m.get(1),
    (e: unknown) => e instanceof MapError && /map "h" \(HASH\) is closed/.test(e.message),
  );
  assert.throws(() => view.get(new Uint8Array(4)), MapError);
});

test("fromFd duplicates a number (the caller keeps its fd) and takes over an FD", () => {
  using m = hash();
  const copy = BpfMap.fromFd(m.fd, { key: u32, value: u64 });
  assert.notEqual(copy.fd, m.fd);
  m.set(3, 9n);
  assert.equal(copy.get(3), 9n, "the same kernel map");
  copy.close();
  assert.equal(m.get(3), 9n, "closing the duplicate leaves the original open");
  assert.ok(kernel.bpfCalls.includes(Cmd.OBJ_GET_INFO_BY_FD));
});

test("bad specs are refused by the kernel with a SysError naming the map", () => {
  assert.throws(
    () => BpfMap.create({ type: MapType.HASH, keySize: 0, valueSize: 8, maxEntries: 1, name: "z" }),
    (e: unknown) => errno(Errno.EINVAL)(e) && /map "z"/.test((e as Error).message),
  );
  assert.deepEqual(kernel.openFds, []);
});
