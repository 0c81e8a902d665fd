// The pre-load API of CollectionOptions: map sizes (maxEntries), program autoload, and the
// attach target of a tp_btf/fentry program (attachTargets), each set before load as libbpf's
// bpf_map__set_max_entries / bpf_program__set_autoload / bpf_program__set_attach_target.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Collection } from "../../../src/load/collection.js";
import { Loader } from "../../../src/load/loader.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

test("maxEntries sizes maps before creation; autoload skips programs", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("uprobe_named.o"), {
    maxEntries: { hits: 77, args: 9 },
    autoload: { bare_entry: false, sub_entry: true },
  });
  assert.equal(c.map("hits").maxEntries, 77);
  assert.equal(c.map("args").maxEntries, 9);
  assert.deepEqual([...c.programs.keys()].sort(), [
    "add_entry",
    "add_return",
    "sub_entry",
    "sub_return",
  ]);
  // Entry 76 exists only in the resized map.
  assert.notEqual(c.map("hits").get(u32(76)), undefined);

  await assert.rejects(
    Collection.loadFile(fixture("uprobe_named.o"), { maxEntries: { nope: 1 } }),
    /maxEntries: no map named nope in the object \(it has: hits, args\)/,
  );
  await assert.rejects(
    Collection.loadFile(fixture("tp_btf.o"), { maxEntries: { ".rodata": 2 } }),
    /maxEntries: \.rodata holds global data/,
  );
  await assert.rejects(
    Collection.loadFile(fixture("uprobe_named.o"), { autoload: { nope: false } }),
    /autoload: no program named nope/,
  );
  await assert.rejects(
    Collection.loadFile(fixture("uprobe_named.o"), { attachTargets: { add_entry: "x" } }),
    /attachTargets: program add_entry \(section uprobe\/\/proc\/self\/exe:tsbpf_fn_add\) is not fentry, fexit, tp_btf or iter/,
  );
});

test("attachTargets moves a tp_btf program to another tracepoint", async (t) => {
  if (!needsKernel(t)) return;
  // tp_btf_sys_enter counts by its second argument: the syscall number on sys_enter, the
  // return value on sys_exit. getppid (process.ppid) returns the parent's pid.
  const load = (opts: { attachTargets?: Record<string, string> }) =>
    Loader.create()
      .options({ globals: { target_pid: process.pid }, ...opts })
      .loadFile(fixture("tp_btf.o"));
  const count = (
    l: { map(n: string): { get(k: Uint8Array): Uint8Array | undefined } },
    k: number,
  ) => l.map("syscall_count").get(u32(k));
  {
    await using l = await load({ attachTargets: { tp_btf_sys_enter: "sys_exit" } });
    assert.match(l.links[0]!.link.description, /tp_btf tp_btf_sys_enter on sys_exit/);
    for (let i = 0; i < 5; i++) void process.ppid;
    assert.ok(count(l, process.ppid) !== undefined, "keyed by getppid's return value");
  }
  {
    await using l = await load({});
    for (let i = 0; i < 5; i++) void process.ppid;
    assert.ok(count(l, 110) !== undefined, "keyed by the syscall number (getppid = 110)");
  }
  await assert.rejects(
    load({ attachTargets: { tp_btf_sys_enter: "tsbpf_no_such_tp" } }),
    /program tp_btf_sys_enter: the kernel has no BTF tracepoint tsbpf_no_such_tp/,
  );
});

test("valueSize grows a global data array before load (bpf_map__set_value_size)", async (t) => {
  if (!needsKernel(t)) return;
  const N = 40;
  using c = await Collection.loadFile(fixture("resize_array.o"), {
    valueSize: { ".data.slots": 4 * N },
    globals: { slot_count: N },
  });
  const m = c.map(".data.slots");
  assert.equal(m.valueSize, 4 * N);
  const run = c.program("resize_fill").testRun({ data: new Uint8Array(64) });
  assert.equal(run.retval, N);
  const got = new Uint32Array(m.get(new Uint8Array(4))!.slice().buffer);
  assert.deepEqual(
    [...got],
    Array.from({ length: N }, (_, i) => i + 1),
  );

  // The whole resized array can be given as the last variable's initial value.
  const init = new Uint8Array(4 * N).fill(7);
  using c2 = await Collection.loadFile(fixture("resize_array.o"), {
    valueSize: { ".data.slots": 4 * N },
    globals: { slots: init },
  });
  assert.deepEqual(c2.map(".data.slots").get(new Uint8Array(4)), init);

  // Without the resize the verifier refuses slots[1]: the option is what makes it load.
  await assert.rejects(
    Collection.loadFile(fixture("resize_array.o"), { globals: { slot_count: N } }),
    /resize_fill/,
  );
  await assert.rejects(
    Collection.loadFile(fixture("resize_array.o"), { valueSize: { nope: 8 } }),
    /valueSize: no map named nope in the object/,
  );
  await assert.rejects(
    Collection.loadFile(fixture("resize_array.o"), { valueSize: { ".data.slots": 0 } }),
    /valueSize: \.data\.slots must be a positive whole number of bytes, not 0/,
  );
});

test("valueSize sets a hash map's value size", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("uprobe_named.o"), { valueSize: { hits: 16 } });
  assert.equal(c.map("hits").valueSize, 16);
});
