// Logs from probes (issue 14): ``log.info`…` `` compiled to a ring buffer record of a format id
// and the arguments, formatted in user space with the object's `.tsbpf.log` formats. Run with
// BPF_PROG_TEST_RUN on crafted frames (every line checked exactly), the level filter changed
// at run time, and `Loaded.logs()` streaming the lines of an attached tracepoint program.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { generateSkeleton } from "../../../src/skel/generate.js";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { Loader } from "../../../src/load/loader.js";
import { LogReader, logDrops, logLevel, setLogLevel } from "../../../src/load/logs.js";
import { logLineText } from "../../../src/obj/log-section.js";
import { virtualPath } from "../../unit/compiler/support.js";

export const XDP_LOG = `import { program, map, xdp, XdpAction, log, ipv4, hex, ArrayMap } from "tsbpf/probe";
import { struct, u8, u64, array } from "tsbpf/types";
program({ license: "GPL" });
const Tag = struct("Tag", { name: array(u8, 8), hits: u64 });
const tags = map("tags", new ArrayMap(Tag, { maxEntries: 1 }));

export const conn = xdp((ctx) => {
  log.debug\`frame of \${ctx.len()} bytes\`;
  const eth = ctx.eth();
  const ip = ctx.ip();
  const t = ctx.transport();
  if (!eth || !ip || !t) {
    log.warn\`not TCP/UDP over IP\`;
    return XdpAction.Pass;
  }
  if (ip.version === 4)
    log.info\`conn from \${ip.saddr} port \${t.dest()} to \${ipv4(ip.daddr)} ttl \${ip.ttl}\`;
  else log.info\`conn from \${ip.saddr} port \${t.dest()} hop limit \${ip.hopLimit}\`;
  const tag = tags.get(0);
  if (tag && tag.name[0] !== 0) {
    tag.hits += 1n;
    log.error\`\${tag.name}: hit \${tag.hits} mac \${eth.src} flags \${hex(t.protocol === "tcp" ? 0x12 : 0)} \${-5} \${"done"}\`;
  }
  return XdpAction.Pass;
});
`;

function compile(src: string, name: string): Uint8Array {
  const path = virtualPath(name);
  return compileProbe(path, { sources: new Map([[path, src]]) }).elf;
}

const ROOT = fileURLToPath(new URL("../../../..", import.meta.url));
const MAC_SRC = [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01];

/** Ethernet + IPv4 (TTL 61) + TCP from 10.1.2.3:40000 to 192.168.7.9:8080. */
function tcp4(): Uint8Array {
  const f = new Uint8Array(14 + 20 + 20);
  f.set([2, 0, 0, 0, 0, 2, ...MAC_SRC, 0x08, 0x00]);
  f.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 61, 6, 0, 0, 10, 1, 2, 3, 192, 168, 7, 9], 14);
  f.set([0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff], 34);
  return f;
}

/** Ethernet + IPv6 (hop limit 7) + TCP from 2001:db8::1:0:0:5 to ::1, port 443. */
function tcp6(): Uint8Array {
  const f = new Uint8Array(14 + 40 + 20);
  f.set([2, 0, 0, 0, 0, 2, ...MAC_SRC, 0x86, 0xdd]);
  f.set([0x60, 0, 0, 0, 0, 20, 6, 7], 14);
  f.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 5], 22);
  f.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 38);
  f.set([0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff], 54);
  return f;
}

test("log.*: typed arguments formatted exactly; the level filter changed at run time", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compile(XDP_LOG, "log"));
  using logs = LogReader.open(coll);
  const run = (frame: Uint8Array) =>
    assert.equal(coll.programs.get("conn")!.testRun({ data: frame }).retval, 2);
  const lines = () => logs.read().map(logLineText);

  assert.equal(logLevel(coll), 3, "info by default");
  run(tcp4());
  run(tcp6());
  run(new Uint8Array(60)); // EtherType 0: no IP
  assert.deepEqual(lines(), [
    "[INFO] conn from 10.1.2.3 port 8080 to 192.168.7.9 ttl 61",
    "[INFO] conn from 2001:db8::1:0:0:5 port 443 hop limit 7",
    "[WARN] not TCP/UDP over IP",
  ]);

  const name = new Uint8Array(16);
  name.set(new TextEncoder().encode("edge"));
  coll.maps.get("tags")!.set(new Uint8Array(4) as never, name as never);
  setLogLevel(coll, "debug");
  run(tcp4());
  assert.deepEqual(lines(), [
    "[DEBUG] frame of 54 bytes",
    "[INFO] conn from 10.1.2.3 port 8080 to 192.168.7.9 ttl 61",
    "[ERROR] edge: hit 1 mac 02:aa:bb:cc:dd:01 flags 0x12 -5 done",
  ]);

  setLogLevel(coll, "error");
  run(tcp4());
  run(new Uint8Array(60));
  assert.deepEqual(lines(), ["[ERROR] edge: hit 2 mac 02:aa:bb:cc:dd:01 flags 0x12 -5 done"]);

  setLogLevel(coll, "off");
  run(tcp4());
  assert.deepEqual(lines(), []);
  assert.equal(logDrops(coll), 0n);

  const l = (setLogLevel(coll, "info"), run(tcp6()), logs.read());
  assert.deepEqual(l, [
    {
      level: "info",
      message: "conn from 2001:db8::1:0:0:5 port 443 hop limit 7",
      file: l[0]!.file,
      line: 18,
    },
    {
      level: "error",
      message: "edge: hit 4 mac 02:aa:bb:cc:dd:01 flags 0x12 -5 done", // "off" still counted
      file: l[0]!.file,
      line: 22,
    },
  ]);
  assert.match(l[0]!.file, /^log-\d+-\d+\.ts$/);
  assert.throws(() => setLogLevel(coll, "loud" as never), /log level loud: give error, warn/);
});

test("records the ring buffer cannot take are counted in tsbpf_log_drops", (t) => {
  if (!needsKernel(t)) return;
  using coll = Collection.load(compile(XDP_LOG, "log-drops"));
  setLogLevel(coll, "debug");
  // Each run logs twice: debug (16-byte record) and warn (8 bytes), each behind the ring's
  // 8-byte header: 40 bytes a run. 256 KiB hold 6553 runs' records and one more debug record;
  // nothing reads them meanwhile.
  const r = coll.programs.get("conn")!.testRun({ data: new Uint8Array(60), repeat: 20000 });
  assert.equal(r.retval, 2);
  assert.equal(logDrops(coll), 40000n - 13107n);
  using logs = LogReader.open(coll);
  assert.equal(logs.read().length, 13107);
});

const TP_LOG = `import { program, tracepoint, config, pidTgid, comm, log } from "tsbpf/probe";
import { struct, u8, u32, i32, array, type Infer } from "tsbpf/types";
program({ license: "GPL" });
const target = config("target", u32, 0);
const Enter = struct("Enter", { nr: i32 });
const Who = struct("Who", { comm: array(u8, 16) });
type Who = Infer<typeof Who>;
export const on_uname = tracepoint("syscalls", "sys_enter_newuname", Enter, (ctx) => {
  const pid = Number(pidTgid() >> 32n);
  if (pid !== target.value) return 0;
  const w: Who = { comm: new Uint8Array(16) };
  comm(w.comm);
  log.info\`uname from \${w.comm} (syscall \${ctx.fields.nr})\`;
  return 0;
});
`;

test("Loaded.logs(): the lines of an attached program as an async iterable", async (t) => {
  if (!needsKernel(t)) return;
  await using loaded = await Loader.create()
    .options({ globals: { target: process.pid } })
    .load(compile(TP_LOG, "log-tp"));
  const got: string[] = [];
  const reading = (async () => {
    for await (const l of loaded.logs()) {
      got.push(logLineText(l));
      if (got.length === 2) break;
    }
  })();
  hostname(); // uname(2)
  hostname();
  await reading;
  assert.deepEqual(got, [
    "[INFO] uname from node (syscall 63)",
    "[INFO] uname from node (syscall 63)",
  ]);
});

test("a logging probe's skeleton: logs() reads its lines, setLogLevel() silences them", async (t) => {
  if (!needsKernel(t)) return;
  const elf = compile(TP_LOG, "log-skel");
  // Inside the package, "tsbpf" in the generated module resolves to this checkout.
  const dir = join(ROOT, "build", `log-skel-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = generateSkeleton(elf, { name: "log_tp", elfPath: "x.elf", embed: true });
  const js = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  writeFileSync(join(dir, "log_tp.skel.js"), js);
  const { LogTp } = (await import(join(dir, "log_tp.skel.js"))) as {
    LogTp: {
      load(
        l: Loader,
        o: { globals: { target: number } },
      ): Promise<{
        logs(): LogReader;
        setLogLevel(level: string): void;
        close(): void;
      }>;
    };
  };
  const probe = await LogTp.load(Loader.create(), { globals: { target: process.pid } });
  try {
    using reader = probe.logs();
    probe.setLogLevel("off");
    hostname(); // the ring buffer record, if any, is submitted before uname(2) returns
    assert.deepEqual(reader.read(), [], "nothing logged while off");
    probe.setLogLevel("info");
    hostname();
    assert.deepEqual(reader.read().map(logLineText), ["[INFO] uname from node (syscall 63)"]);
  } finally {
    probe.close();
  }
});
