import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { ProgType } from "../../../src/obj/consts.js";
import { parseSectionName } from "../../../src/obj/section.js";
import { attachBySection } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";
import { countingProgram } from "./programs.js";

test("attachBySection: tracepoint, raw_tp and uprobe sections attach where they say", (t) => {
  if (!needsKernel(t)) return;
  using tp = countingProgram({
    type: ProgType.TRACEPOINT,
    name: "sec_tp",
    ret: 0,
    tgid: process.pid,
  });
  using raw = countingProgram({
    type: ProgType.RAW_TRACEPOINT,
    name: "sec_raw",
    ret: 0,
    tgid: process.pid,
  });
  using up = countingProgram({ type: ProgType.KPROBE, name: "sec_up", ret: 0 });
  const bin = fixture("uprobe_target");
  const links = [
    attachBySection(tp, parseSectionName("tracepoint/syscalls/sys_enter_openat")!),
    attachBySection(raw, parseSectionName("raw_tp/sys_enter")!),
    attachBySection(up, parseSectionName(`uprobe/${bin}:tsbpf_probe_target`)!),
  ];
  try {
    assert.deepEqual(
      links.map((l) => l.kind),
      ["tracepoint", "raw_tracepoint", "uprobe"],
    );
    for (let i = 0; i < 5; i++) closeSync(openSync("/proc/self/stat", "r"));
    execFileSync(bin, ["2"]);
    assert.ok(tp.read() >= 5n);
    assert.ok(raw.read() >= 10n);
    assert.equal(up.read(), 2n);
  } finally {
    for (const l of links) l.close();
  }
});
