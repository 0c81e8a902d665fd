// `tsbpf inspect` and `tsbpf disasm` on the clang fixtures, and how the CLI reports mistakes.
// No kernel needed: these commands only parse objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsClang } from "../../support/fixtures.js";
import type { TestContext } from "node:test";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const BIN = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));

/** A built fixture object (building them once when missing; needs clang-19). */
function fixture(t: TestContext, name: string): string | undefined {
  const p = `${root}test/fixtures/obj/${name}`;
  if (!existsSync(p)) {
    if (!needsClang(t)) return undefined;
    execFileSync("bash", [`${root}scripts/build-fixtures.sh`], { stdio: "ignore" });
  }
  return p;
}

const tsbpf = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

test("inspect --json: exact programs and maps of maps_all.o", (t) => {
  const f = fixture(t, "maps_all.o");
  if (!f) return;
  const r = tsbpf(["inspect", "--json", f]);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.license, "GPL");
  assert.equal(s.btf, true);
  type P = { name: string; section: string; type: string; kind: string };
  assert.deepEqual(s.programs.map((p: P) => [p.name, p.section, p.type, p.kind]).sort(), [
    ["tp_stack", "tracepoint/syscalls/sys_enter_getppid", "TRACEPOINT", "TracePoint"],
    ["xdp_entry", "xdp", "XDP", "XDP"],
    ["xdp_exercise", "xdp", "XDP", "XDP"],
    ["xdp_tail", "xdp", "XDP", "XDP"],
  ]);
  const maps = Object.fromEntries(
    s.maps.map(
      (m: {
        name: string;
        type: string;
        keySize: number;
        valueSize: number;
        maxEntries: number;
      }) => [m.name, [m.type, m.keySize, m.valueSize, m.maxEntries]],
    ),
  );
  assert.deepEqual(maps, {
    ".rodata": ["ARRAY", 4, 4, 1],
    hash_map: ["HASH", 4, 8, 128],
    array_map: ["ARRAY", 4, 8, 4],
    percpu_hash: ["PERCPU_HASH", 4, 8, 128],
    percpu_array: ["PERCPU_ARRAY", 4, 8, 1],
    lru_hash: ["LRU_HASH", 4, 8, 128],
    lpm_trie: ["LPM_TRIE", 8, 4, 64],
    perf_events: ["PERF_EVENT_ARRAY", 4, 4, 0],
    ringbuf: ["RINGBUF", 0, 0, 16384],
    jump_table: ["PROG_ARRAY", 4, 4, 4],
    stack_traces: ["STACK_TRACE", 4, 1016, 256],
    queue: ["QUEUE", 0, 4, 16],
    stack: ["STACK", 0, 4, 16],
    inner_array: ["ARRAY", 4, 8, 1],
    array_of_maps: ["ARRAY_OF_MAPS", 4, 4, 2],
    hash_of_maps: ["HASH_OF_MAPS", 4, 4, 8],
  });
});

test("every --json output is JSON lines: inspect --json, server status --json", (t) => {
  const f = fixture(t, "maps_all.o");
  if (!f) return;
  const cache = mkdtempSync(join(tmpdir(), "tsbpf-json-"));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  const runs = [
    spawnSync(`"${process.execPath}" "${BIN}" inspect --json "${f}" | jq -c .`, {
      shell: "bash",
      encoding: "utf8",
    }),
    // No build server for this (empty) cache: `null`, exit 1.
    spawnSync(process.execPath, [BIN, "server", "status", "--json"], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", XDG_CACHE_HOME: cache },
    }),
  ];
  for (const r of runs) {
    assert.equal(r.stderr, "");
    const lines = r.stdout.replace(/\n$/, "").split("\n");
    assert.equal(lines.length, 1, r.stdout);
    for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), l);
  }
  assert.equal(runs[0]!.status, 0, "jq parsed the inspect output");
  assert.equal(runs[1]!.stdout, "null\n");
});

test("inspect: the table for trace_http.o", (t) => {
  const f = fixture(t, "trace_http.o");
  if (!f) return;
  const r = tsbpf(["inspect", f]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.equal(lines[0], `${f}: eBPF object`);
  assert.ok(lines.includes("license: GPL"));
  assert.ok(lines.includes("BTF: yes (with line info)"));
  assert.ok(
    lines.some((l) => /^ {2}trace_http +xdp +XDP +XDP +\d+$/.test(l)),
    r.stdout,
  );
  assert.ok(
    lines.some((l) => /^ {2}requests +PERF_EVENT_ARRAY +4 +4 +1024 +0x0 +none$/.test(l)),
    r.stdout,
  );
});

test("disasm: source lines, map names, subprogram labels; --prog selects", (t) => {
  const f = fixture(t, "trace_http.o");
  const s = fixture(t, "subprog.o");
  if (!f || !s) return;
  const r = tsbpf(["disasm", f]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^trace_http: {2}; section xdp\n/);
  assert.match(r.stdout, /\n; if \(eth->h_proto == bpf_htons\(ETH_P_IP\)\) \{\n/);
  assert.match(r.stdout, /\n +\d+: \(18\) r2 = map\[requests\]\n/);
  assert.match(r.stdout, /call bpf_perf_event_output#25/);
  const b = tsbpf(["disasm", "--prog", "subprog_b", s]);
  assert.equal(b.status, 0, b.stderr);
  assert.doesNotMatch(b.stdout, /subprog_a/);
  assert.match(b.stdout, /call pc\+\d+#mix\n/);
  assert.match(b.stdout, /\nclassify:\n; __noinline int classify\(__u32 len\)\n/);
  assert.match(b.stdout, /map\[results\]/);
});

test("user mistakes: one line on stderr, exit 1; usage errors exit 2", (t) => {
  const f = fixture(t, "subprog.o");
  if (!f) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-cli-"));
  try {
    const junk = join(dir, "junk.o");
    writeFileSync(junk, "this is not an ELF file");
    const truncated = join(dir, "truncated.o");
    writeFileSync(truncated, Buffer.from("7f454c46020101", "hex"));
    const cases: [string[], number, RegExp][] = [
      [["inspect", join(dir, "missing.o")], 1, /^error: no such file: .*missing\.o\n$/],
      [["disasm", join(dir, "missing.o")], 1, /^error: no such file: .*missing\.o\n$/],
      [["inspect", junk], 1, /^error: not an eBPF object: .*\n$/],
      [["disasm", truncated], 1, /^error: .+\n$/],
      [
        ["disasm", "--prog", "nope", f],
        1,
        /^error: no program named nope \(the object has: subprog_a, subprog_b\)\n$/,
      ],
      [["inspect"], 2, /missing required argument 'file'/],
      [["inspect", "--bogus", f], 2, /unknown option '--bogus'/],
      [["frobnicate"], 2, /unknown command 'frobnicate'/],
      [["load", "-p", "abc", f], 2, /pid must be a non-negative integer/],
    ];
    for (const [args, code, stderr] of cases) {
      const r = tsbpf(args);
      assert.equal(r.status, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, stderr, args.join(" "));
      assert.doesNotMatch(
        r.stderr,
        /internal error|\n {4}at /,
        `${args.join(" ")}: no stack trace`,
      );
    }
    assert.equal(tsbpf(["--help"]).status, 0);
    assert.equal(tsbpf(["load", "--help"]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
