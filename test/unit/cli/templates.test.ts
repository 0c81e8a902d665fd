// The probe templates of `tsbpf new --template` / `tsbpf add` (src/cli/templates/kinds.ts)
// compile as `tsbpf add` writes them, each to its kind's section; unknown names are refused
// with the list. (Creating, building and running each project: test/kernel/e2e/templates*.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { KIND_TEMPLATES, TEMPLATES, standaloneProbe } from "../../../src/cli/templates/kinds.js";
import { templateNamed } from "../../../src/cli/new.js";
import { parseSectionName } from "../../../src/obj/section.js";
import { compileSource } from "../compiler/support.js";

const SECTION_KIND: Record<string, string> = {
  xdp: "xdp",
  tc: "tc",
  tracepoint: "tracepoint",
  kprobe: "kprobe",
  uprobe: "uprobe",
  fentry: "fentry",
  "perf-event": "perf_event",
  cgroup: "cgroup_skb",
};

for (const name of TEMPLATES) {
  test(`tsbpf add ${name}: the probe compiles to one ${SECTION_KIND[name]} program`, () => {
    const text = standaloneProbe(KIND_TEMPLATES[name], "my_probe", name);
    const out = compileSource(text, { raw: true });
    assert.deepEqual(
      out.programs.map((p) => [p.name, parseSectionName(p.section)?.kind]),
      [["my_probe", SECTION_KIND[name]]],
    );
  });
}

test("template names: the list, and an unknown one refused with it", () => {
  assert.deepEqual(Object.keys(KIND_TEMPLATES).sort(), [...TEMPLATES].sort());
  assert.equal(templateNamed("perf-event"), "perf-event");
  assert.throws(
    () => templateNamed("lsm"),
    /unknown template "lsm": use one of xdp, tc, tracepoint, kprobe, uprobe, fentry, perf-event, cgroup/,
  );
});
