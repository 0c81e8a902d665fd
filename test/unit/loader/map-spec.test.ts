// BpfMap.create's spec is declared from the public MapSpec, no longer as the syscall layer's
// BPF_MAP_CREATE attr; its fields must stay what they were (public API). Checked by the type
// checker when the tests build: a field added to, dropped from or retyped in either fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { BpfMapSpec } from "../../../src/index.js";
import type { MapCreateAttr } from "../../../src/sys/bpf.js";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const sameFields: Same<Required<Omit<BpfMapSpec, "innerMap">>, Required<MapCreateAttr>> = true;
const sameRequired: Same<
  Pick<BpfMapSpec, "type" | "keySize" | "valueSize" | "maxEntries">,
  Pick<MapCreateAttr, "type" | "keySize" | "valueSize" | "maxEntries">
> = true;

test("BpfMapSpec has the BPF_MAP_CREATE attr's fields (plus innerMap) without extending it", () => {
  assert.equal(sameFields, true);
  assert.equal(sameRequired, true);
  const spec: BpfMapSpec = { type: 1, keySize: 4, valueSize: 8, maxEntries: 16, mapExtra: 3 };
  assert.equal(spec.mapExtra, 3);
});
