// Where a uprobe/kprobe section attaches when the loader also has --binary/--symbol: what
// the section names wins, the options fill in only what it leaves out (pure decisions).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSectionName } from "../../../src/obj/section.js";
import { AttachError, sectionNamesProbeTarget, uprobeTarget } from "../../../src/link/index.js";
import { ProgType } from "../../../src/obj/consts.js";

const prog = { fd: -1, name: "p", type: ProgType.KPROBE };
const sec = (s: string) => {
  const info = parseSectionName(s);
  assert.ok(info, s);
  return info;
};

test("uprobeTarget: the section's function wins; options fill the rest", () => {
  // (the Loader passes no loader-wide symbol to sections that name their function)
  const opts = { binary: "/bin/other" };
  assert.deepEqual(uprobeTarget(prog, sec("uprobe//usr/bin/x:fn"), opts), {
    binary: "/usr/bin/x",
    symbol: "fn",
  });
  assert.deepEqual(uprobeTarget(prog, sec("uretprobe//usr/bin/x:0x40"), opts), {
    binary: "/usr/bin/x",
    offset: 0x40,
  });
  assert.deepEqual(uprobeTarget(prog, sec("uprobe//usr/bin/x:fn+8"), opts), {
    binary: "/usr/bin/x",
    symbol: "fn",
    offset: 8,
  });
  assert.deepEqual(uprobeTarget(prog, sec("uprobe//proc/self/exe:fn"), opts), {
    binary: "/bin/other",
    symbol: "fn",
  });
  const withSymbol = { ...opts, symbol: "other_fn" };
  assert.deepEqual(uprobeTarget(prog, sec("uprobe"), withSymbol), withSymbol);
  assert.deepEqual(uprobeTarget(prog, sec("uprobe//usr/bin/x:"), withSymbol), {
    binary: "/usr/bin/x",
    symbol: "other_fn",
  });
  const refuses = (s: string, o: object, re: RegExp) =>
    assert.throws(
      () => uprobeTarget(prog, sec(s), o),
      (e) => e instanceof AttachError && re.test(e.message),
    );
  refuses("uprobe//proc/self/exe:fn", {}, /probes \/proc\/self\/exe.*--binary/);
  // a symbol option naming another function than the section's is a conflict, not ignored
  refuses(
    "uprobe//usr/bin/x:fn",
    { symbol: "other_fn" },
    /names its function in its section \(fn\); the symbol option \(other_fn\)/,
  );
  assert.deepEqual(uprobeTarget(prog, sec("uprobe//usr/bin/x:fn"), { symbol: "fn" }), {
    binary: "/usr/bin/x",
    symbol: "fn",
  });
  refuses("uprobe", { symbol: "x" }, /needs a binary: pass --binary PATH/);
  refuses("uprobe", { binary: "/b" }, /needs a function: pass --symbol FUNCTION/);
});

test("sectionNamesProbeTarget", () => {
  assert.equal(sectionNamesProbeTarget(sec("uprobe//proc/self/exe:fn")), true);
  assert.equal(sectionNamesProbeTarget(sec("uprobe//usr/bin/x:")), false);
  assert.equal(sectionNamesProbeTarget(sec("uprobe")), false);
  assert.equal(sectionNamesProbeTarget(sec("kprobe/do_unlinkat")), true);
  assert.equal(sectionNamesProbeTarget(sec("kprobe")), false);
  assert.equal(sectionNamesProbeTarget(sec("ksyscall/openat")), true);
  assert.equal(sectionNamesProbeTarget(sec("xdp")), false);
});
