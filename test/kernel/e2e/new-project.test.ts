// `tsbpf new` makes a project that type-checks, builds and loads as generated: scaffold into
// a temp dir, `npm install` it (from npm's cache where it can, else the registry: a fresh
// machine's cache holds no registry metadata); check its probe with the TypeScript language
// service, tsserver and `tsc --noEmit`, and that no probe is emitted as JavaScript; build it;
// attach it on the server side of a veth pair in private namespaces — through `tsbpf load`
// and through its own loader — and see the packets sent from the other side; run the README's
// Quick start as written on that namespace's `lo`; deploy it as docs/running.md says.
import { after, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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

/** The generated project, installed once for the tests below. */
let project: Promise<string> | undefined;
let tmp: string | undefined;
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function generated(t: TestContext): Promise<string> {
  return (project ??= (async () => {
    tmp = mkdtempSync(join(tmpdir(), "tsbpf-new-"));
    const out = sh(tmp, process.execPath, [TSBPF, "new", NAME]);
    assert.match(out, new RegExp(`^Created ${NAME} in ${tmp}/${NAME}: `));
    const dir = join(tmp, NAME);
    for (const f of ["package.json", "tsconfig.json", "tsconfig.build.json", "probe.ts"])
      assert.ok(existsSync(join(dir, f)), f);
    for (const f of ["shared.ts", "loader.ts"]) assert.ok(existsSync(join(dir, f)), f);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    assert.equal(pkg.dependencies.tsbpf, `file:${root.replace(/\/$/, "")}`);
    // What the README tells users to run.
    sh(dir, "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"]);
    t.diagnostic(`generated and installed in ${dir}`);
    return dir;
  })());
}

type ServerRequest = { command: string; arguments: Record<string, unknown> };

/**
 * Runs the project's tsserver (as an editor does: protocol messages on stdin, framed responses
 * on stdout) and returns the bodies of the responses to `requests` after the first ("open").
 */
function tsserver(dir: string, requests: ServerRequest[]): Promise<unknown[]> {
  const bin = join(dir, "node_modules/typescript/lib/tsserver.js");
  const child = spawn(process.execPath, [bin, "--disableAutomaticTypingAcquisition"], {
    cwd: dir,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const bodies = new Map<number, unknown>();
  const want = requests.length; // "open" answers too, with no body
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tsserver answered ${bodies.size} of ${want} requests in 120 s`));
    }, 120_000);
    let buf = Buffer.alloc(0);
    child.stdout!.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const head = /^Content-Length: (\d+)\r\n\r\n/.exec(buf.toString("latin1", 0, 64));
        if (!head || buf.length < head[0].length + Number(head[1])) break;
        const msg = JSON.parse(
          buf.toString("utf8", head[0].length, head[0].length + Number(head[1])),
        ) as {
          type: string;
          request_seq: number;
          success: boolean;
          body: unknown;
          message?: string;
        };
        buf = buf.subarray(head[0].length + Number(head[1]));
        if (msg.type !== "response") continue;
        if (!msg.success) reject(new Error(`tsserver: ${msg.message}`));
        bodies.set(msg.request_seq, msg.body);
        if (bodies.size === want) {
          clearTimeout(timer);
          child.stdin!.end(JSON.stringify({ seq: 99, type: "request", command: "exit" }) + "\n");
          resolve(requests.slice(1).map((_, i) => bodies.get(i + 2)));
        }
      }
    });
    child.on("error", reject);
    requests.forEach((r, i) =>
      child.stdin!.write(JSON.stringify({ seq: i + 1, type: "request", ...r }) + "\n"),
    );
  });
}

/**
 * The commands of the README's Quick start that attach and send: the `tsbpf load`, the UDP
 * datagram and the project's loader, with the README's project `hello` renamed to `name`.
 */
function quickStart(name: string): { load: string; send: string; loader: string } {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("## Quick start");
  assert.ok(start >= 0, "README has a Quick start");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  const lines = [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.split("\n"))
    .map((l) => l.replace(/\s+# .*$/, "").trim())
    .filter((l) => l !== "")
    .map((l) => l.replaceAll("bpf-programs/hello/hello.elf", `bpf-programs/${name}/${name}.elf`));
  const find = (re: RegExp) => {
    const hit = lines.find((l) => re.test(l));
    assert.ok(hit, `the Quick start has a command matching ${re}: ${lines.join("\n")}`);
    return hit;
  };
  const quick = {
    load: find(/^sudo npx tsbpf load /),
    send: find(/^node -e .*dgram/),
    loader: find(/^sudo node dist\/loader\.js /),
  };
  // Never the user's real interface.
  assert.match(quick.load, / -i lo /);
  assert.match(quick.loader, /^sudo node dist\/loader\.js lo /);
  return quick;
}

/** Positions (0-based offset, 1-based line/offset for tsserver) of `needle` in `text`. */
function where(text: string, needle: string) {
  const pos = text.indexOf(needle);
  assert.ok(pos >= 0, `${needle} in the probe`);
  const before = text.slice(0, pos).split("\n");
  return { pos, line: before.length, offset: before.at(-1)!.length + 1 };
}

test("tsbpf new: the editor and tsc --noEmit type-check the probe; no probe is emitted", async (t) => {
  const dir = await generated(t);
  const probe = join(dir, "probe.ts");
  const text = readFileSync(probe, "utf8");

  // 1. The TypeScript language service, set up as tsserver does for an open probe.ts: the
  // nearest tsconfig.json, its files and options, the project's own TypeScript.
  const ts = createRequire(join(dir, "package.json"))("typescript") as typeof import("typescript");
  const configFile = ts.findConfigFile(dir, ts.sys.fileExists);
  assert.equal(configFile, join(dir, "tsconfig.json"));
  const parsed = ts.parseJsonConfigFileContent(
    ts.readConfigFile(configFile!, ts.sys.readFile).config,
    ts.sys,
    dir,
  );
  assert.deepEqual(parsed.errors, []);
  assert.ok(
    parsed.fileNames.includes(probe),
    `tsconfig.json includes probe.ts: ${parsed.fileNames}`,
  );
  const service = ts.createLanguageService(
    {
      getScriptFileNames: () => parsed.fileNames,
      getScriptVersion: () => "1",
      getScriptSnapshot: (f) =>
        existsSync(f) ? ts.ScriptSnapshot.fromString(readFileSync(f, "utf8")) : undefined,
      getCurrentDirectory: () => dir,
      getCompilationSettings: () => parsed.options,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: ts.sys.fileExists,
      readFile: ts.sys.readFile,
      readDirectory: ts.sys.readDirectory,
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
      realpath: ts.sys.realpath!,
    },
    ts.createDocumentRegistry(),
  );
  const diagnostics = [
    ...service.getSyntacticDiagnostics(probe),
    ...service.getSemanticDiagnostics(probe),
  ].map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  assert.deepEqual(diagnostics, [], "no diagnostics on probe.ts");
  const quick = (needle: string, skip = 0) => {
    const info = service.getQuickInfoAtPosition(probe, where(text, needle).pos + skip);
    return ts.displayPartsToString(info?.displayParts);
  };
  const ipType = quick("ip = ctx.ip()");
  t.diagnostic(`language service: ${ipType}`);
  assert.match(ipType, /^const ip: \S/);
  assert.doesNotMatch(ipType, /\bany\b/, "ctx.ip() has a real type");
  const method = quick("ctx.ip()", 4);
  assert.match(method, /^\(method\) \w+\.ip\(\): \w/);
  assert.doesNotMatch(method, /\bany\b/);

  // 2. tsserver itself, as an editor runs it: which project holds probe.ts, its diagnostics,
  // the type of ctx.ip().
  const server = await tsserver(dir, [
    { command: "open", arguments: { file: probe } },
    { command: "projectInfo", arguments: { file: probe, needFileNameList: false } },
    { command: "semanticDiagnosticsSync", arguments: { file: probe } },
    { command: "quickinfo", arguments: { file: probe, ...where(text, "ip = ctx.ip()") } },
  ]);
  assert.equal(
    (server[0] as { configFileName: string }).configFileName,
    join(dir, "tsconfig.json"),
    "tsserver's project",
  );
  assert.deepEqual(server[1], [], "tsserver: no diagnostics on probe.ts");
  const display = (server[2] as { displayString: string }).displayString;
  t.diagnostic(`tsserver: ${display}`);
  assert.match(display, /^const ip: \S/);
  assert.doesNotMatch(display, /\bany\b/);

  // 3. tsc --noEmit checks every probe (an error in one fails it) and writes nothing. An
  // extra probe, listed in package.json, is checked and built too, and never emitted as JS.
  mkdirSync(join(dir, "probes"), { recursive: true });
  const extra = join(dir, "probes/drops.ts");
  writeFileSync(
    extra,
    text
      .replace(/export const \w+ = xdp/, "export const drops = xdp")
      .replace('"./shared.js"', '"../shared.js"'),
  );
  const pkgFile = join(dir, "package.json");
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { tsbpf: { probes: string[] } };
  pkg.tsbpf.probes.push("probes/drops.ts");
  writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + "\n");
  sh(dir, "npx", ["tsc", "--noEmit"]);
  writeFileSync(extra, readFileSync(extra, "utf8") + 'export const wrong: number = "1";\n');
  const bad = spawnSync("npx", ["tsc", "--noEmit"], { cwd: dir, encoding: "utf8" });
  assert.notEqual(bad.status, 0, "a type error in a probe fails tsc --noEmit");
  assert.match(bad.stdout, /probes\/drops\.ts\(\d+,\d+\): error TS2322/);
  writeFileSync(extra, readFileSync(extra, "utf8").replace(/export const wrong.*\n/, ""));
  assert.ok(!existsSync(join(dir, "dist")), "tsc --noEmit wrote nothing");

  // npm run build: both probes to eBPF, the loader to JavaScript, no probe as JavaScript.
  const built = sh(dir, "npm", ["run", "build"]);
  assert.match(built, new RegExp(`Compiled ${NAME} → target/bpf-programs/${NAME}/${NAME}\\.elf`));
  assert.match(built, /Compiled drops → target\/bpf-programs\/drops\/drops\.elf/);
  const emitted = readdirSync(join(dir, "dist"), { recursive: true }).map(String).sort();
  assert.deepEqual(emitted, ["loader.js", "shared.js"]);
});

test("tsbpf new: the generated project builds, loads and reports packets", async (t) => {
  if (!needsKernel(t)) return;
  const dir = await generated(t);
  const built = sh(dir, "npx", ["tsbpf", "build", "probe.ts"]);
  const elf = `target/bpf-programs/${NAME}/${NAME}.elf`;
  assert.match(built, new RegExp(`^Compiled ${NAME} → ${elf} \\(1 program, `));
  sh(dir, "npx", ["tsc", "-p", "tsconfig.build.json"]);
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

    // 3. The README's Quick start as written (for this project's name), on `lo` — here the
    // server namespace's own loopback: attach, send its UDP datagram, see the event.
    const quick = quickStart(NAME);
    const inProject = (cmd: string) => [
      "bash",
      "-c",
      // As root already; npx resolves to the project's node_modules/.bin (run directly, so
      // Ctrl-C reaches tsbpf: signals through npx are a matter of their own).
      `cd '${dir}' && exec ${cmd.replace(/^sudo /, "").replace(/^npx /, "node_modules/.bin/")}`,
    ];
    const ql = sb.spawn("server", inProject(quick.load));
    assert.equal(await ql.waitFor(/^Loaded: /), "Loaded: my_probe, XDP");
    const send = sb.spawn("server", inProject(quick.send));
    assert.equal(await send.exited, 0, `${quick.send}: ${send.stderr.join("\n")}`);
    await ql.waitFor(/^-- Event: packets --$/);
    // saddr and daddr 127.0.0.1, then the ports in host order: dport 9999 is 0f27.
    await ql.waitFor(/^\|7f000001 7f000001 [0-9a-f]{4}0f27 1100/);
    assert.equal(await ql.stop("SIGINT"), 0);
    const qo = sb.spawn("server", inProject(quick.loader));
    assert.equal(await qo.waitFor(/^Loaded: /), "Loaded: my_probe, XDP");
    const again = sb.spawn("server", inProject(quick.send));
    assert.equal(await again.exited, 0);
    assert.match(
      await qo.waitFor(/^UDP /),
      /^UDP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:9999 \(47 bytes\)$/,
      "the line the README shows",
    );
    assert.equal(await qo.stop("SIGINT"), 0);

    // 4. Deploying as docs/running.md says: only the object, dist/, package.json and
    // package-lock.json, then `npm ci --omit=dev` (beside the project, so the lock's relative
    // file: path to this checkout still holds).
    const deployed = join(dirname(dir), "deployed");
    mkdirSync(deployed);
    copyFileSync(join(dir, elf), join(deployed, `${NAME}.elf`));
    cpSync(join(dir, "dist"), join(deployed, "dist"), { recursive: true });
    for (const f of ["package.json", "package-lock.json"])
      copyFileSync(join(dir, f), join(deployed, f));
    sh(deployed, "npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"]);
    assert.ok(!existsSync(join(deployed, "node_modules/@types/node")), "no dev dependencies");
    const dl = sb.spawn("server", [
      process.execPath,
      join(deployed, "dist/loader.js"),
      "lo",
      join(deployed, `${NAME}.elf`),
    ]);
    assert.equal(await dl.waitFor(/^Loaded: /), "Loaded: my_probe, XDP");
    const third = sb.spawn("server", inProject(quick.send));
    assert.equal(await third.exited, 0);
    assert.match(await dl.waitFor(/^UDP /), /^UDP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:9999 /);
    assert.equal(await dl.stop("SIGINT"), 0);
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
