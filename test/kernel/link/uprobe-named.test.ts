// Sections that name their uprobe target attach there; --binary/--symbol (Loader.uprobe)
// only fill in what a section leaves out. Before this, every program of uprobe_named.o
// landed on the --symbol function (libbpf-bootstrap's uprobes all on uprobed_add).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { Loader } from "../../../src/load/loader.js";
import { AttachError } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const i64 = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : Buffer.from(b).readBigInt64LE(0);

test("uprobe sections naming their function attach to it; the bare one takes --symbol", async (t) => {
  if (!needsKernel(t)) return;
  const bin = fixture("uprobe_funcs");
  const warnings: string[] = [];
  await using loaded = await Loader.create()
    .uprobe(bin, { symbol: "tsbpf_fn_mul" })
    .options({ onWarning: (m) => warnings.push(m) })
    .loadFile(fixture("uprobe_named.o"));
  const where = Object.fromEntries(
    loaded.links.map(({ program, link }) => [program.name, link.description]),
  );
  assert.match(where["add_entry"]!, /uprobe_funcs:tsbpf_fn_add /);
  assert.match(where["add_return"]!, /uretprobe add_return on .*uprobe_funcs:tsbpf_fn_add /);
  assert.match(where["sub_entry"]!, /uprobe_funcs:tsbpf_fn_sub /);
  assert.match(where["sub_return"]!, /uprobe_funcs:tsbpf_fn_sub /);
  assert.match(where["bare_entry"]!, /uprobe_funcs:tsbpf_fn_mul /);
  assert.deepEqual(warnings, []);

  const n = 4;
  assert.match(execFileSync(bin, [String(n)], { encoding: "utf8" }), /calls=24 /);
  const hits = [0, 1, 2, 3, 4].map((k) => i64(loaded.map("hits").get(u32(k))));
  const args = [0, 1, 2, 3, 4].map((k) => i64(loaded.map("args").get(u32(k))));
  const tri = (m: number) => BigInt((m * (m + 1)) / 2);
  assert.deepEqual(hits, [4n, 4n, 8n, 8n, 12n]);
  // Entry probes sum the first argument, return probes the result (a+b, a-b).
  assert.deepEqual(args, [tri(4), 11n * tri(4), tri(8), -9n * tri(8), tri(12)]);
});

test("uprobe sections: /proc/self/exe needs --binary; an unused --symbol is reported", async (t) => {
  if (!needsKernel(t)) return;
  await assert.rejects(
    Loader.create().loadFile(fixture("uprobe_named.o")),
    (e) =>
      e instanceof AttachError &&
      /UProbe program add_entry .*probes \/proc\/self\/exe.*pass --binary PATH/.test(e.message),
  );
  const warnings: string[] = [];
  await using loaded = await Loader.create()
    .uprobe(fixture("uprobe_funcs"), { symbol: "tsbpf_fn_mul" })
    .skip("bare_entry")
    .options({ onWarning: (m) => warnings.push(m) })
    .loadFile(fixture("uprobe_named.o"));
  assert.equal(loaded.links.length, 4);
  assert.deepEqual(warnings, [
    "symbol tsbpf_fn_mul was not used: every probe section of the object names its own function",
  ]);
});
