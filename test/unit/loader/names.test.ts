// Pure parts of loading: kernel map names (libbpf's convention) and the verifier summary.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { mapKernelName } from "../../../src/load/collection.js";
import { summarize, failingInsn, sourceFor, VerifierError } from "../../../src/load/verifier.js";
import type { MapSpec } from "../../../src/obj/object.js";

const spec = (name: string, global: boolean): MapSpec => ({
  name,
  type: 2,
  keySize: 4,
  valueSize: 4,
  maxEntries: 1,
  flags: 0,
  pinning: "none",
  section: name,
  ...(global && { global: { kind: "data" as const, variables: [], readonly: false } }),
});

test("global data maps are named like libbpf names them", () => {
  assert.equal(mapKernelName(spec(".rodata", true), "tp_openat"), "tp_opena.rodata");
  assert.equal(mapKernelName(spec(".bss", true), "globals"), "globals.bss");
  assert.equal(mapKernelName(spec(".bss", true), "my_object_name"), "my_objec.bss");
  assert.equal(mapKernelName(spec(".kconfig", true), "my_object_name"), "my_obje.kconfig");
  assert.equal(mapKernelName(spec(".data.custom", true), "globals"), ".data.custom");
  assert.equal(mapKernelName(spec(".rodata.abracadabra", true), "x"), ".rodata.abracad");
  assert.equal(mapKernelName(spec(".rodata", true)), ".rodata");
  assert.equal(mapKernelName(spec("a_rather_long_map_name", false), "x"), "a_rather_long_m");
  assert.equal(mapKernelName(spec("odd-name!", false)), "odd_name_");
});

test("kernel map names are always valid: ≤ 15 chars of [A-Za-z0-9_.]", () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.boolean(), (name, obj, global) => {
      const n = mapKernelName(spec(name, global), obj);
      return n.length <= 15 && /^[A-Za-z0-9_.]*$/.test(n);
    }),
  );
});

const LOG = `0: R1=ctx() R10=fp0
; struct ethhdr *eth = (void *)(long)ctx->data; @ verifier_reject.bpf.c:18
0: (61) r1 = *(u32 *)(r1 +0)          ; R1=pkt(r=0)
; if (eth->h_proto == bpf_htons(ETH_P_IP)) @ verifier_reject.bpf.c:21
1: (71) r2 = *(u8 *)(r1 +12)
invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)
R1 offset is outside of the packet
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
`;

test("verifier summary: the reason lines after the last instruction, its source line", () => {
  assert.equal(
    summarize(LOG),
    "invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0); R1 offset is outside of the packet",
  );
  assert.equal(failingInsn(LOG), 1);
  const lines = [
    { insn: 0, fileName: "v.c", line: 18, col: 2, text: "a" },
    { insn: 1, fileName: "v.c", line: 21, col: 11, text: "\tif (x)" },
    { insn: 5, fileName: "v.c", line: 23, col: 2, text: "c" },
  ];
  assert.equal(sourceFor(1, lines)?.line, 21);
  assert.equal(sourceFor(4, lines)?.line, 21);
  const e = new VerifierError("no_bounds_check", 13, LOG, lines);
  assert.match(
    e.message,
    /^the kernel verifier rejected program no_bounds_check: invalid access to packet/,
  );
  assert.match(e.message, /\n {2}at v\.c:21:11: if \(x\)\n/);
  assert.deepEqual(e.source, lines[1]);
  assert.equal(
    summarize("processed 0 insns\n"),
    "no verifier log (the kernel gave no reason; try log level 2)",
  );
  assert.equal(summarize("just a reason\n"), "just a reason");
});
