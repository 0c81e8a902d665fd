// `tsbpf new` makes a project that builds and loads as generated: scaffold into a temp dir,
// `npm install` it (from npm's cache where it can, else the registry: a fresh machine's cache
// holds no registry metadata), `tsbpf build` its probe, `tsc` its loader, then
// attach it on the server side of a veth pair in private namespaces — through `tsbpf load` and
// through its own loader — and see the packets sent from the other side.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsKernel } from "../../support/kernel.js";
import { Sandbox } from "../../../examples/trace_http/sandbox.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const TSBPF = join(root, "dist/src/cli/bin.js");
const NAME = "my-probe";

function sh(cwd: string, cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

test("tsbpf new: the generated project builds, loads and reports packets", async (t) => {
  if (!needsKernel(t)) return;
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-new-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  const out = sh(tmp, process.execPath, [TSBPF, "new", NAME]);
  assert.match(out, new RegExp(`^Created ${NAME} in ${tmp}/${NAME}: `));
  const dir = join(tmp, NAME);
  for (const f of ["package.json", "tsconfig.json", "probe.ts", "shared.ts", "loader.ts"])
    assert.ok(existsSync(join(dir, f)), f);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  assert.equal(pkg.dependencies.tsbpf, `file:${root.replace(/\/$/, "")}`);

  // What the README tells users to run.
  sh(dir, "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"]);
  const built = sh(dir, "npx", ["tsbpf", "build"]);
  const elf = `target/bpf-programs/${NAME}/${NAME}.elf`;
  assert.match(built, new RegExp(`^Compiled ${NAME} → ${elf} \\(1 program, `));
  sh(dir, "npx", ["tsc", "-p", "."]);
  assert.ok(existsSync(join(dir, "dist/loader.js")));

  const sb = Sandbox.create();
  try {
    const { server: srv, client: cli } = sb;
    const udp = { port: 4242, text: "hello, probe" };
    // Ethernet 14 + IPv4 20 + UDP 8 + payload.
    const frameLen = 14 + 20 + 8 + udp.text.length;

    // 1. The generic loader: cargo-bpf's Loaded line and a hexdump of the event.
    const load = sb.spawn("server", [
      process.execPath,
      TSBPF,
      "load",
      "-i",
      srv.iface,
      join(dir, elf),
    ]);
    assert.equal(await load.waitFor(/^Loaded: /), "Loaded: my_probe, XDP");
    await sb.send({ port: 0, udp: [{ host: srv.v4, ...udp }] });
    await load.waitFor(/^-- Event: packets --$/);
    // saddr 10.200.0.2 and daddr 10.200.0.1 in network order, then the ports.
    await load.waitFor(/^\|0ac80002 0ac80001 [0-9a-f]{4}9210 1100/);
    assert.equal(await load.stop("SIGINT"), 0);

    // 2. The project's own loader.
    const own = sb.spawn("server", [
      process.execPath,
      join(dir, "dist/loader.js"),
      srv.iface,
      join(dir, elf),
    ]);
    assert.equal(await own.waitFor(/^Loaded: /), "Loaded: my_probe, XDP");
    await sb.send({ port: 0, udp: [{ host: srv.v4, ...udp }] });
    const line = await own.waitFor(/^UDP /);
    assert.match(
      line,
      new RegExp(
        `^UDP ${cli.v4.replace(/\./g, "\\.")}:\\d+ -> ${srv.v4.replace(/\./g, "\\.")}:${udp.port} \\(${frameLen} bytes\\)$`,
      ),
    );
    assert.equal(await own.stop("SIGINT"), 0);
    assert.equal(sb.xdpProgramId(), undefined, "detached");
  } finally {
    sb.close();
  }
});

test("tsbpf new: refuses a bad name or a non-empty directory", (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-new-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const run = (name: string) =>
    spawnSync(process.execPath, [TSBPF, "new", name], {
      cwd: tmp,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
  let r = run("Bad Name");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: invalid project name "Bad Name": use lower-case letters/);
  assert.equal(run("ok").status, 0);
  r = run("ok");
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "error: ok already exists and is not empty; pick another name\n");
});
