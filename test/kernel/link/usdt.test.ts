// USDT attach for clang objects built against libbpf's usdt.bpf.h: the probe's sites from
// .note.stapsdt, the argument specs written to __bpf_usdt_specs, a uprobe per site whose
// cookie is the spec slot, and the semaphore raised by the kernel (uprobe ref_ctr_offset)
// while attached — in a process that was already running when the probe attached.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { Collection } from "../../../src/load/collection.js";
import { AttachError } from "../../../src/link/index.js";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";

/** Runs usdt_target N: waits for "ready", calls `attached()`, lets it run, returns its output. */
async function runTarget(n: number, attached: (pid: number) => void): Promise<string> {
  const child = spawn(fixture("usdt_target"), [String(n)], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  const ready = new Promise<void>((resolve) =>
    child.stdout.on("data", (d: string) => {
      out += d;
      if (out.includes("ready\n")) resolve();
    }),
  );
  try {
    await ready;
    attached(child.pid!);
    child.stdin.end("go\n");
    const [code] = (await once(child, "exit")) as [number];
    assert.equal(code, 0, out);
    return out;
  } finally {
    child.kill();
  }
}

const i64s = (b: Uint8Array | undefined): bigint[] => {
  assert.ok(b, "no entry");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.byteLength / 8 }, (_, i) => dv.getBigInt64(i * 8, true));
};
const key64 = (n: number) => new Uint8Array(new BigInt64Array([BigInt(n)]).buffer);

test("USDT: arguments of every kind, the cookie, and a semaphore-guarded probe", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("usdt.o"));
  const links: { close(): void }[] = [];
  const n = 6;
  try {
    const out = await runTarget(n, (pid) => {
      const binary = fixture("usdt_target");
      links.push(c.program("on_tick").attach({ binary, usdt: "tsbpf:tick", usdtCookie: 0xabcdn }));
      links.push(c.program("on_guarded").attach({ binary, usdt: "tsbpf:guarded", pid }));
    });
    // The kernel raised the semaphore in the running process while the probe was attached.
    assert.match(out, new RegExp(`semaphore=1 guarded=${n}\\n`));
    for (let i = 0; i < n; i++) {
      const [a0, a1, a2, a3, a4, cnt, cookie] = i64s(c.map("ticks").get(key64(i)));
      assert.deepEqual(
        [a0, a1, a2, a3, a4, cnt, cookie],
        [i, -3 * i, i - 5, 42, 1000 + i, 5, 0xabcd].map(BigInt),
        `tick ${i}`,
      );
    }
    const g = (k: number) => i64s(c.map("guarded").get(new Uint8Array([k, 0, 0, 0])))[0];
    assert.deepEqual([g(0), g(1)], [BigInt(n), BigInt(7 * (n - 1))]);
  } finally {
    for (const l of links) l.close();
  }
  // Detached: the semaphore is back to 0 and the guarded probe does not fire.
  const after = await runTarget(2, () => {});
  assert.match(after, /semaphore=0 guarded=0\n/);
});

test("USDT: unknown probes and missing options are errors that say what exists", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("usdt.o"));
  const binary = fixture("usdt_target");
  assert.throws(
    () => c.program("on_tick").attach({ binary, usdt: "tsbpf:nope" }),
    (e) =>
      e instanceof AttachError &&
      /no USDT probe tsbpf:nope in .*usdt_target \(it has: tsbpf:tick, tsbpf:guarded\)/.test(
        e.message,
      ),
  );
  assert.throws(
    () => c.program("on_tick").attach({ binary }),
    /needs a USDT probe: pass --usdt PROVIDER:NAME/,
  );
});
