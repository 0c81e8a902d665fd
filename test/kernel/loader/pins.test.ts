// Pins outlive the process: a child loads an object whose map is `pinning: by-name`, writes a
// value and exits; this process loads the object again, gets the same kernel map back and
// reads the value. Program.pin likewise. Everything is pinned under a fresh directory of
// /sys/fs/bpf and removed afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Collection } from "../../../src/load/collection.js";
import { Program } from "../../../src/load/program.js";
import { needsKernel } from "../../support/kernel.js";
import { buildCPath, needsClang } from "../../support/fixtures.js";
import { u32, u64 } from "./helpers.js";

const PINNED_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_counts SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} private_counts SEC(".maps");
SEC("xdp") int pinned_xdp(struct xdp_md *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&shared_counts, &k);
  if (v) __sync_fetch_and_add(v, 1);
  v = bpf_map_lookup_elem(&private_counts, &k);
  if (v) __sync_fetch_and_add(v, 1);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;

const collectionJs = fileURLToPath(new URL("../../../src/load/collection.js", import.meta.url));

/** In a separate node process: load, write shared_counts[1] = 4242, pin the program, print ids. */
function childLoad(obj: string, dir: string): { mapId: number; progId: number } {
  const code = `
    const { Collection } = await import(${JSON.stringify(collectionJs)});
    const c = await Collection.loadFile(${JSON.stringify(obj)}, { pinPath: ${JSON.stringify(dir)} });
    const k = new Uint8Array(4); new DataView(k.buffer).setUint32(0, 1, true);
    const v = new Uint8Array(8); new DataView(v.buffer).setBigUint64(0, 4242n, true);
    c.map("shared_counts").set(k, v);
    c.program("pinned_xdp").pin(${JSON.stringify(dir + "/prog")});
    console.log(JSON.stringify({ mapId: c.map("shared_counts").id, progId: c.program("pinned_xdp").info().id }));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", code], {
    encoding: "utf8",
  });
  return JSON.parse(out) as { mapId: number; progId: number };
}

test("a by-name pinned map and a pinned program survive the process that made them", async (t) => {
  if (!needsKernel(t) || !needsClang(t)) return;
  const obj = buildCPath(PINNED_C, "pinned");
  const dir = `/sys/fs/bpf/tsbpf-test-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const child = childLoad(obj, dir);
    assert.ok(existsSync(`${dir}/shared_counts`), "the map is pinned under its name");
    assert.ok(!existsSync(`${dir}/private_counts`), "maps without pinning are not");

    using c = await Collection.loadFile(obj, { pinPath: dir });
    const shared = c.map("shared_counts");
    assert.equal(shared.id, child.mapId, "the pinned map is reused, not recreated");
    assert.equal(u64(shared.get(u32(1))), 4242n, "the child's value is there");
    // Our program and the pinned one share the map.
    c.program("pinned_xdp").testRun({ data: new Uint8Array(64) });
    using pinnedProg = Program.fromPin(`${dir}/prog`);
    assert.equal(pinnedProg.info().id, child.progId);
    assert.equal(pinnedProg.name, "pinned_xdp");
    pinnedProg.testRun({ data: new Uint8Array(64) });
    assert.equal(u64(shared.get(u32(0))), 2n, "both programs counted in the one map");
    assert.equal(u64(c.map("private_counts").get(u32(0))), 1n, "the private map is ours alone");

    // A pin that does not match the object's definition is refused, naming the fix.
    const other = buildCPath(PINNED_C.replace("max_entries, 4)", "max_entries, 8)"), "pinned8");
    await assert.rejects(
      Collection.loadFile(other, { pinPath: dir }),
      /map shared_counts: the map pinned at .*shared_counts does not match the object's definition \(max entries 4 vs 8\); remove the pin or fix the definition/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(!existsSync(dir), "pins removed");
});
