import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { HELPER_NAMES, helperId, helperName, MAX_HELPER_ID } from "../../../src/obj/helpers.js";

test("helper ids and names, with or without the bpf_ prefix", () => {
  assert.equal(helperName(1), "map_lookup_elem");
  assert.equal(helperName(6), "trace_printk");
  assert.equal(helperName(25), "perf_event_output");
  assert.equal(helperName(131), "ringbuf_reserve");
  assert.equal(helperName(MAX_HELPER_ID), "cgrp_storage_delete");
  assert.equal(MAX_HELPER_ID, 211);
  assert.equal(helperId("map_lookup_elem"), 1);
  assert.equal(helperId("bpf_map_lookup_elem"), 1);
  assert.equal(helperId("bpf_ktime_get_ns"), 5);
  for (const bad of [0, -1, 212, 1.5, Number.NaN])
    assert.equal(helperName(bad), undefined, String(bad));
  for (const bad of ["unspec", "bpf_unspec", "nope", ""])
    assert.equal(helperId(bad), undefined, bad);
  for (let id = 1; id <= MAX_HELPER_ID; id++) assert.equal(helperId(helperName(id)!), id);
});

test("table agrees with the installed UAPI header", (t) => {
  const header = "/usr/include/linux/bpf.h";
  if (!existsSync(header)) return t.skip(`${header} not installed`);
  const text = readFileSync(header, "utf8");
  const start = text.indexOf("_BPF_FUNC_MAPPER(");
  const mapper = text.slice(start, text.indexOf("/* */", start));
  // Old headers list FN(name) in id order; new ones spell FN(name, id, ##ctx).
  const entries = [...mapper.matchAll(/FN\((\w+)(?:, (\d+))?/g)];
  assert.ok(entries.length > 200, `found ${entries.length} helpers in ${header}`);
  entries.forEach((m, i) => {
    const id = m[2] === undefined ? i : Number(m[2]);
    assert.equal(HELPER_NAMES[id], m[1], `helper ${id}`);
  });
});
