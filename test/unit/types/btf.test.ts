import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inCI } from "../../support/kernel.js";
import {
  array,
  be16,
  bytes,
  struct,
  toBtf,
  toC,
  u16,
  u32,
  u64,
  u8,
} from "../../../src/types/index.js";
import { BtfBuilder, parseBtf } from "../../../src/obj/btf.js";

const RequestInfo = struct("RequestInfo", { saddr: u32, daddr: u32, sport: u16, dport: u16 });

test("toBtf emits typedef → INT, ARRAY, STRUCT with bit offsets", () => {
  const b = new BtfBuilder();
  const id = toBtf(RequestInfo, b);
  const btf = parseBtf(b.encode());
  const s = btf.typeById(id);
  assert.equal(s.kind, "struct");
  if (s.kind !== "struct") return;
  assert.equal(s.name, "RequestInfo");
  assert.equal(s.size, 12);
  assert.deepEqual(
    s.members.map((m) => [m.name, m.bitOffset]),
    [
      ["saddr", 0],
      ["daddr", 32],
      ["sport", 64],
      ["dport", 80],
    ],
  );
  const sport = btf.typeById(s.members[2]!.type);
  assert.equal(sport.kind, "typedef");
  assert.equal(sport.name, "__u16");
  assert.equal(btf.sizeOf(s.members[2]!.type), 2);
  const raw = btf.typeById(btf.resolve(s.members[0]!.type));
  assert.deepEqual([raw.kind, raw.name], ["int", "unsigned int"]);
});

test("toBtf emits each type once per sink", () => {
  const b = new BtfBuilder();
  const Outer = struct("Outer", {
    a: RequestInfo,
    b: RequestInfo,
    c: array(u16, 2),
    d: array(u16, 2),
  });
  const id = toBtf(Outer, b);
  const count = b.count;
  assert.equal(toBtf(Outer, b), id);
  assert.equal(toBtf(RequestInfo, b), toBtf(RequestInfo, b));
  assert.equal(toBtf(u16, b), toBtf(u16, b));
  // An equal definition under the same name is the same type to C and BTF.
  const Twin = struct("RequestInfo", { saddr: u32, daddr: u32, sport: u16, dport: u16 });
  assert.equal(toBtf(Twin, b), toBtf(RequestInfo, b));
  assert.equal(b.count, count, "nothing new was added");
  const names = parseBtf(b.encode()).types.map((t) => `${t.kind}:${t.name}`);
  assert.equal(names.filter((n) => n === "struct:RequestInfo").length, 1);
  assert.equal(names.filter((n) => n === "typedef:__u16").length, 1);
  assert.equal(names.filter((n) => n === "array:").length, 1);
  // A second sink starts afresh.
  const other = new BtfBuilder();
  toBtf(Outer, other);
  assert.equal(other.count, count);
});

test("toBtf rejects two different structs with one name", () => {
  const b = new BtfBuilder();
  toBtf(RequestInfo, b);
  const Imposter = struct("RequestInfo", { saddr: u64 });
  assert.throws(() => toBtf(Imposter, b), /two different structs are named RequestInfo/);
});

test("be16 is a typedef of __u16, like <linux/types.h>", () => {
  const b = new BtfBuilder();
  const id = toBtf(be16, b);
  const btf = parseBtf(b.encode());
  const t = btf.typeById(id);
  assert.equal(t.kind === "typedef" && t.name, "__be16");
  if (t.kind !== "typedef") return;
  const inner = btf.typeById(t.type);
  assert.equal(inner.kind === "typedef" && inner.name, "__u16");
});

test("bpftool prints our BTF as the same C that toC renders", (t) => {
  if (spawnSync("bpftool", ["version"], { stdio: "ignore" }).status !== 0) {
    if (inCI) throw new Error("bpftool is required under CI");
    t.skip("bpftool not installed");
    return;
  }
  const Event = struct("Event", {
    req: RequestInfo,
    ts: u64,
    comm: bytes(16),
    port: be16,
    grid: array(array(u8, 3), 2),
  });
  const b = new BtfBuilder();
  toBtf(Event, b);
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-types-"));
  try {
    const file = join(dir, "event.btf");
    writeFileSync(file, b.encode());
    const c = execFileSync("bpftool", ["btf", "dump", "file", file, "format", "c"], {
      encoding: "utf8",
    });
    for (const block of toC(Event).trim().split("\n\n")) {
      assert.ok(c.includes(block), `bpftool output lacks:\n${block}\n--- got:\n${c}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
