// The TypeScript exporter API is checked against the probe's structs at compile time: each
// `@ts-expect-error` below must meet an error, or `tsc -p .` (part of every build) fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { counter, histogram } from "../../../src/export/spec.js";
import { struct, be32, u8, u32, u64, array } from "../../../src/types/index.js";

const Key = struct("Key", { saddr: be32, proto: u8, pad: array(u8, 3) });
const Val = struct("Val", { packets: u64, bytes: u64 });
const HKey = struct("HKey", { op: u32, slot: u32 });

test("labels, value fields and bucket fields must be fields of the declared structs", () => {
  const ok = counter({
    name: "c",
    help: "h",
    map: "m",
    key: Key,
    value: Val,
    field: "packets",
    labels: { src: { field: "saddr", decode: "ipv4" }, proto: "proto" },
  });
  assert.deepEqual(ok.spec.labels, [
    { name: "src", field: "saddr", decode: "ipv4" },
    { name: "proto", field: "proto" },
  ]);
  // @ts-expect-error "src" is not a field of Key
  counter({ name: "c", help: "h", map: "m", key: Key, value: Val, labels: { s: "src" } });
  // @ts-expect-error "packet" is not a field of Val
  counter({ name: "c", help: "h", map: "m", key: Key, value: Val, field: "packet" });
  counter({
    name: "c",
    help: "h",
    map: "m",
    key: Key,
    value: Val,
    // @ts-expect-error "ipv5" is not a decoder
    labels: { s: { field: "saddr", decode: "ipv5" } },
  });
  const h = histogram({
    name: "h_seconds",
    unit: "seconds",
    help: "h",
    map: "m",
    key: HKey,
    value: u64,
    bucket: "slot",
    buckets: { type: "log2", max: 20, multiplier: 1e-6 },
    labels: { op: "op" },
  });
  assert.equal(h.spec.type, "histogram");
  histogram({
    name: "h",
    help: "h",
    map: "m",
    key: HKey,
    value: u64,
    // @ts-expect-error "bucket" is not a field of HKey
    bucket: "bucket",
    buckets: { type: "log2", max: 3 },
  });
});
