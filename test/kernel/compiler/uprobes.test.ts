// uprobe/uretprobe programs compiled from TypeScript fire on a real binary and read its
// arguments and return value through Registers (x86-64 pt_regs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { attachUprobe } from "../../../src/link/index.js";
import { struct, u32, u64 } from "../../../src/types/index.js";
import { fixture } from "../../support/fixtures.js";

const FIXTURE = fileURLToPath(
  new URL("../../../../test/fixtures/probes/uprobes.ts", import.meta.url),
);
const Sums = struct("Sums", { calls: u64, a: u64, b: u64, ret: u64 });

test("uprobe and uretprobe see arguments and return values", (t) => {
  if (!needsKernel(t)) return;
  if (process.arch !== "x64") return t.skip("Registers offsets are x86-64");
  const bin = fixture("uprobe_target");
  using coll = Collection.load(compileProbe(FIXTURE).elf);
  {
    using _entry = attachUprobe(coll.programs.get("on_entry")!, {
      binary: bin,
      symbol: "tsbpf_probe_target",
    });
    using _ret = attachUprobe(coll.programs.get("on_return")!, {
      binary: bin,
      symbol: "tsbpf_probe_target",
      retprobe: true,
    });
    execFileSync(bin, ["4"], { encoding: "utf8" });
  }
  const s = Sums.decode(coll.maps.get("sums")!.get(u32.encode(0) as never) as Uint8Array);
  // calls i = 1..4 with (i, 10 i), returning i * 10 i + 7
  assert.deepEqual(s, { calls: 4n, a: 10n, b: 100n, ret: 10n * (1n + 4n + 9n + 16n) + 28n });
});
