// Path copies (src/compiler/opt/clone-paths.ts) of blocks that read kernel structs: a CO-RE
// load carries the compiler's type objects, which structuredClone cannot copy, so the
// execsnoop port (examples/tools/execsnoop: a read of currentTask().real_parent.tgid before
// a loop that may leave early, whose paths the optimiser copies) failed to compile with a
// DataCloneError. Now it compiles and keeps the relocations of that read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { compileProbe } from "../../../src/compiler/index.js";
import { parseObject } from "../../../src/obj/object.js";

const PROBE = fileURLToPath(
  new URL("../../../../examples/tools/execsnoop/probe.ts", import.meta.url),
);

test("a kernel-struct read in a copied path compiles and keeps its CO-RE relocations", () => {
  const { elf } = compileProbe(PROBE);
  const relos = parseObject(elf).programs.find((x) => x.name === "enter_execve")!.coreRelos;
  // task->real_parent, then ->tgid
  assert.ok(relos.length >= 2, `the reads of real_parent and tgid are relocated (${relos.length})`);
});
