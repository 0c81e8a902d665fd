// `tsbpf build --watch` rebuilds on a change until Ctrl-C; `tsbpf build` writes the typed
// skeleton beside the object, with the ELF's bytes in it under --embed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const TSBPF = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));
const env = { ...process.env, NO_COLOR: "1", TSBPF_SERVER: "0" };

const probe = (
  n: number,
) => `import { program, map, xdp, PerfMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { u32 } from "tsbpf/types";
program({ license: "GPL" });
const lengths = map("lengths", new PerfMap(u32, { maxEntries: ${n} }));
export const count = xdp((ctx: XdpContext) => {
  lengths.insert(ctx, ctx.len());
  return XdpAction.Pass;
});
`;

test("tsbpf build writes <name>.skel.ts beside the object; --embed puts the ELF into it", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-skel-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "probe.ts"), probe(64));
  const name = dir.split("/").at(-1)!;
  const out = join(dir, "target/bpf-programs", name);
  assert.equal(spawnSync(process.execPath, [TSBPF, "build"], { cwd: dir, env }).status, 0);
  const skel = readFileSync(join(out, `${name}.skel.ts`), "utf8");
  assert.match(
    skel,
    new RegExp(`export const elf: string = "target/bpf-programs/${name}/${name}.elf";`),
  );
  assert.match(skel, /lengths: \{ kind: "perf_event_array", event: u32 \}/);
  assert.match(skel, /count: \{ section: "xdp" \}/);
  assert.equal(
    spawnSync(process.execPath, [TSBPF, "build", "--embed"], { cwd: dir, env }).status,
    0,
  );
  const embedded = readFileSync(join(out, `${name}.skel.ts`), "utf8");
  const b64 = [...embedded.matchAll(/^ {2}"([A-Za-z0-9+/=]+)"/gm)].map((m) => m[1]).join("");
  assert.deepEqual(Buffer.from(b64, "base64"), readFileSync(join(out, `${name}.elf`)));
});

test("tsbpf build --watch: builds, rebuilds on a change (errors too), stops on SIGINT with exit 0", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-watch-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "probe.ts"), probe(64));
  const child = spawn(process.execPath, [TSBPF, "build", "--watch"], { cwd: dir, env });
  t.after(() => child.kill("SIGKILL"));
  const lines: string[] = [];
  let wake = () => {};
  createInterface({ input: child.stdout }).on("line", (l) => {
    lines.push(l);
    wake();
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += String(d);
    wake();
  });
  const until = async (pred: () => boolean, what: string) => {
    for (const end = Date.now() + 60_000; !pred();) {
      assert.ok(
        Date.now() < end && child.exitCode === null,
        `${what}; stdout:\n${lines.join("\n")}\nstderr:\n${stderr}`,
      );
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    }
  };
  const watching = () =>
    lines.filter((l) => l.endsWith("watching for changes (Ctrl-C to stop)")).length;
  await until(() => watching() === 1, "the first build");
  assert.ok(lines.some((l) => l.startsWith("Compiled ")));
  const elf = join(
    dir,
    "target/bpf-programs",
    dir.split("/").at(-1)!,
    `${dir.split("/").at(-1)!}.elf`,
  );
  assert.ok(existsSync(elf));

  writeFileSync(join(dir, "probe.ts"), probe(64).replace("ctx.len()", "ctx.len() * 1.5"));
  await until(() => watching() === 2, "a rebuild after the change");
  assert.match(stderr, /probe\.ts:\d+:\d+ - error TSBPF1005: floating-point value 1\.5/);
  assert.ok(
    lines.some((l) => /\] probe\.ts changed: building$/.test(l)),
    lines.join("\n"),
  );

  writeFileSync(join(dir, "probe.ts"), probe(128));
  await until(() => watching() === 3, "a rebuild after the fix");
  assert.equal(lines.filter((l) => l.startsWith("Compiled ")).length, 2);

  child.kill("SIGINT");
  const code = await new Promise((r) => child.once("exit", (c) => r(c)));
  assert.equal(code, 0);
});
