// Collection.load's option checks against the fake addon (test/support/fake-kernel.ts): the
// ones made before any syscall reach nothing, the later ones close everything made so far.
// test/kernel/loader/collection.test.ts loads real objects into Linux.
import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { FakeKernel } from "../../support/fake-kernel.js";
import { Collection, LoadError } from "../../../src/load/collection.js";
import { parseObject } from "../../../src/obj/object.js";
import { Cmd } from "../../../src/sys/bpf.js";
import { TsbpfError } from "../../../src/errors.js";
import { HEADER, compileSource } from "../compiler/support.js";

// One object for every test: a hash map, an array map, a global and two XDP programs.
const OBJECT = compileSource(
  HEADER.replace("import { program,", "import { program, global,") +
    `
const counts = map("counts", new HashMap(u32, u64, { maxEntries: 16 }));
const slots = map("slots", new ArrayMap(u64, { maxEntries: 4 }));
const hits = global("hits", u64);
export const first = xdp((ctx) => { counts.set(1, 2n); hits.value = 1n; return XdpAction.Pass; });
export const second = xdp((ctx) => { slots.set(0, 1n); return XdpAction.Drop; });
`,
  { raw: true },
).elf;

let kernel: FakeKernel;
let restore: () => void;
beforeEach(() => {
  kernel = new FakeKernel();
  restore = kernel.install();
});
afterEach(() => restore());

const loadError = (re: RegExp) => (e: unknown) =>
  e instanceof LoadError && e instanceof TsbpfError && re.test(e.message);

test("the object is what the tests assume", () => {
  const o = parseObject(OBJECT);
  assert.deepEqual(o.maps.map((m) => m.name).sort(), [".bss", "counts", "slots"]);
  assert.deepEqual(o.programs.map((p) => p.name).sort(), ["first", "second"]);
});

test("unknown globals and bad maxEntries are refused before any syscall", () => {
  assert.throws(
    () => Collection.load(OBJECT, { globals: { hist: 1 } }),
    loadError(/no global variable named hist in the object \(it has: hits\)/),
  );
  assert.throws(
    () => Collection.load(OBJECT, { maxEntries: { count: 8 } }),
    loadError(/maxEntries: no map named count in the object \(it has: .*counts/),
  );
  assert.throws(
    () => Collection.load(OBJECT, { maxEntries: { counts: 1.5 } }),
    loadError(/maxEntries: counts must be a whole number of entries, not 1.5/),
  );
  assert.throws(
    () => Collection.load(OBJECT, { maxEntries: { ".bss": 2 } }),
    loadError(/maxEntries: \.bss holds global data/),
  );
  assert.deepEqual(kernel.bpfCalls, [], "nothing reached the kernel");
});

test("an unknown program name fails after the maps were made, and closes every one of them", () => {
  for (const opts of [
    { programs: ["frist"] },
    { autoload: { thrid: false } },
    { attachTargets: { first: "x" } },
  ]) {
    const before = kernel.bpfCalls.filter((c) => c === Cmd.MAP_CREATE).length;
    assert.throws(() => Collection.load(OBJECT, opts), LoadError, JSON.stringify(opts));
    const made = kernel.bpfCalls.filter((c) => c === Cmd.MAP_CREATE).length - before;
    assert.equal(made, 3, "the three maps were created first");
    assert.deepEqual(kernel.openFds, [], `${JSON.stringify(opts)}: nothing left open`);
  }
});

test("a global value that does not fit is a LoadError naming it, with nothing left open", () => {
  assert.throws(
    () => Collection.load(OBJECT, { globals: { hits: 1n << 64n } }),
    loadError(/global hits: \d+ does not fit in 8 bytes/),
  );
  assert.throws(
    () => Collection.load(OBJECT, { globals: { hits: new Uint8Array(3) } }),
    loadError(/global hits is 8 bytes; the value given has 3/),
  );
  assert.deepEqual(kernel.openFds, []);
});
