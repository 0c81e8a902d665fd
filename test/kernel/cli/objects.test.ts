// `tsbpf prog|map|link|net` against objects other tools loaded (bpftool, tc) and our own loader,
// with bpftool as the witness: where both show the same thing, the JSON must agree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { needsKernel } from "../../support/kernel.js";
import { fixture } from "../../support/fixtures.js";
import { createNetnsPair, netnsUnavailable } from "../../support/netns.js";
import { eventually } from "../../support/poll.js";
import { BIN, CliProcess } from "./cli-process.js";
import { Collection } from "../../../src/load/collection.js";

function tsbpf(args: string[], ns?: string) {
  const cmd = ns ? ["ip", "netns", "exec", ns, process.execPath, BIN] : [process.execPath, BIN];
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], ns?: string): string {
  const r = tsbpf(args, ns);
  assert.equal(r.status, 0, `tsbpf ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const bpftool = (args: string[], ns?: string): unknown =>
  JSON.parse(
    ns
      ? execFileSync("ip", ["netns", "exec", ns, "bpftool", "-j", ...args], { encoding: "utf8" })
      : execFileSync("bpftool", ["-j", ...args], { encoding: "utf8" }),
  );

/** A bpffs directory of this test process, removed (with the objects only it held) at the end. */
function pinDir(tag: string) {
  const dir = `/sys/fs/bpf/tsbpf-test-${process.pid}-${tag}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

test("tsbpf map/prog on objects bpftool loaded: the same JSON as bpftool's, BTF-decoded", (t) => {
  if (!needsKernel(t)) return;
  using pins = pinDir("maps");
  execFileSync("bpftool", [
    "prog",
    "loadall",
    fixture("maps_all.o"),
    `${pins.dir}/p`,
    "pinmaps",
    `${pins.dir}/m`,
  ]);
  const m = (name: string) => `${pins.dir}/m/${name}`;
  // a struct key (lpm_key { prefixlen; addr[4] }) written by bpftool, read by us
  execFileSync("bpftool", [
    "map",
    "update",
    "pinned",
    m("lpm_trie"),
    "key",
    "24",
    "0",
    "0",
    "0",
    "10",
    "1",
    "2",
    "0",
    "value",
    "5",
    "0",
    "0",
    "0",
  ]);
  for (const name of ["lpm_trie", "percpu_array", "array_map", "maps_all_rodata"]) {
    const ours = JSON.parse(ok(["map", "dump", "--json", "pinned", m(name)])) as unknown;
    assert.deepEqual(ours, bpftool(["map", "dump", "pinned", m(name)]), name);
  }
  assert.equal(
    ok(["map", "dump", m("lpm_trie")]),
    "{ prefixlen: 24, addr: [10, 1, 2, 0] }: 5\nFound 1 element\n",
  );

  // written by us (JSON through the map's BTF), read by bpftool
  ok([
    "map",
    "update",
    m("lpm_trie"),
    '{"prefixlen": 16, "addr": [192, 168, 0, 0]}',
    "--value",
    "9",
  ]);
  const hit = bpftool([
    "map",
    "lookup",
    "pinned",
    m("lpm_trie"),
    "key",
    "16",
    "0",
    "0",
    "0",
    "192",
    "168",
    "0",
    "0",
  ]) as {
    formatted: { value: number };
  };
  assert.equal(hit.formatted.value, 9);
  assert.equal(
    ok(["map", "get", m("lpm_trie"), '{"prefixlen":16,"addr":[192,168,0,0]}']),
    "{ prefixlen: 16, addr: [192, 168, 0, 0] }: 9\n",
  );
  ok(["map", "update", m("hash_map"), "7", "--value", "hex", "2a 00 00 00 00 00 00 00"]);
  assert.equal(
    ok(["map", "get", "--json", m("hash_map"), "7"]).trim(),
    JSON.stringify((bpftool(["map", "dump", "pinned", m("hash_map")]) as unknown[])[0]),
  );
  ok(["map", "delete", m("hash_map"), "7"]);
  assert.deepEqual(bpftool(["map", "dump", "pinned", m("hash_map")]), []);

  // map show/list and prog show agree with bpftool's view of the same ids
  const shown = bpftool(["map", "show", "pinned", m("lpm_trie")]) as Record<string, unknown>;
  const ours = JSON.parse(ok(["map", "show", "--json", m("lpm_trie")])) as Record<string, unknown>;
  for (const k of [
    "id",
    "type",
    "name",
    "flags",
    "bytes_key",
    "bytes_value",
    "max_entries",
    "frozen",
    "btf_id",
  ])
    assert.equal(ours[k], shown[k], k);
  const listed = (JSON.parse(ok(["map", "list", "--json"])) as { id: number }[]).find(
    (x) => x.id === shown.id,
  );
  assert.deepEqual(listed, ours);
  const prog = bpftool(["prog", "show", "pinned", `${pins.dir}/p/xdp_exercise`]) as Record<
    string,
    unknown
  >;
  const ourProg = JSON.parse(ok(["prog", "show", "--json", "id", String(prog.id)])) as Record<
    string,
    unknown
  > & {
    maps: { name: string }[];
  };
  for (const k of [
    "id",
    "type",
    "name",
    "tag",
    "uid",
    "bytes_xlated",
    "bytes_jited",
    "map_ids",
    "btf_id",
  ])
    assert.deepEqual(ourProg[k], prog[k], k);
  // both derive the load date from boot time; /proc/uptime (ours) has 10 ms steps
  assert.ok(Math.abs((ourProg.loaded_at as number) - (prog.loaded_at as number)) <= 1, "loaded_at");
  assert.ok(ourProg.maps.some((x) => x.name === "lpm_trie"));
  assert.ok(
    (JSON.parse(ok(["prog", "list", "--json"])) as { id: number }[]).some((p) => p.id === prog.id),
  );
});

test("tsbpf map: a map without BTF (bpftool map create) takes integers and hex, prints hex", (t) => {
  if (!needsKernel(t)) return;
  using pins = pinDir("nobtf");
  const path = `${pins.dir}/plain`;
  execFileSync("bpftool", [
    "map",
    "create",
    path,
    "type",
    "hash",
    "key",
    "4",
    "value",
    "8",
    "entries",
    "4",
    "name",
    "tsbpf_plain",
  ]);
  ok(["map", "update", path, "258", "--value", "5"]);
  assert.equal(
    ok(["map", "dump", path]),
    "02 01 00 00: 05 00 00 00 00 00 00 00\nFound 1 element\n",
  );
  assert.deepEqual(
    JSON.parse(ok(["map", "dump", "--json", path])),
    bpftool(["map", "dump", "pinned", path]),
  );
  const bad = tsbpf(["map", "update", path, '{"a":1}', "--value", "1"]);
  assert.equal(bad.status, 1);
  assert.match(
    bad.stderr,
    /error: map \d+ \(tsbpf_plain\) key has no BTF type: give it as "hex" and its 4 bytes, or as an unsigned integer/,
  );
  const missing = tsbpf(["map", "get", path, "9"]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /has no entry for this key/);
});

test("tsbpf map: errors name the object at fault", (t) => {
  if (!needsKernel(t)) return;
  using pins = pinDir("errors");
  execFileSync("bpftool", [
    "prog",
    "loadall",
    fixture("maps_all.o"),
    `${pins.dir}/p`,
    "pinmaps",
    `${pins.dir}/m`,
  ]);
  const cases: [string[], RegExp][] = [
    [
      ["map", "dump", `${pins.dir}/m/ringbuf`],
      /map \d+ \(ringbuf\) is a ring buffer: it holds events, not entries/,
    ],
    [
      ["map", "dump", `${pins.dir}/p/xdp_exercise`],
      /is a pinned program, not a map \(try `tsbpf prog show/,
    ],
    [["map", "dump", `${pins.dir}/nothing`], /nothing is pinned at .*\/nothing/],
    [
      ["map", "dump", "id", "4294967295"],
      /no map with id 4294967295 \(list them with `tsbpf map list`\)/,
    ],
    [["map", "dump", "name", "no_such_map_zz"], /no map named "no_such_map_zz"/],
    [
      ["map", "get", `${pins.dir}/m/lpm_trie`, '{"prefix":1}'],
      /struct lpm_key has no field "prefix" \(it has prefixlen, addr\)/,
    ],
    [
      ["map", "delete", `${pins.dir}/m/array_map`, "1"],
      /is an array: its entries cannot be deleted/,
    ],
    [["prog", "show", "id", "x"], /"x" is not a program id/],
  ];
  for (const [args, re] of cases) {
    const r = tsbpf(args);
    assert.equal(r.status, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.doesNotMatch(r.stderr, /internal error/);
  }
});

test("tsbpf map dump of our loader's globals: the .bss DATASEC decoded like bpftool", async (t) => {
  if (!needsKernel(t)) return;
  using c = await Collection.loadFile(fixture("globals.o"));
  const bss = [...c.maps.values()].find((x) => x.name.endsWith(".bss"));
  assert.ok(bss, "globals.o has a .bss map");
  const ours = JSON.parse(ok(["map", "dump", "--json", "id", String(bss.id)])) as unknown;
  assert.deepEqual(ours, bpftool(["map", "dump", "id", String(bss.id)]));
  assert.deepEqual((ours as { formatted: unknown }[])[0]!.formatted, {
    value: { ".bss": [{ runs: 0 }, { pkt: { last_len: 0, max_len: 0 } }] },
  });
});

test("tsbpf link list/detach and tsbpf net: an XDP program `tsbpf load` attached, cls_bpf from tc", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  using net = createNetnsPair();
  const cli = new CliProcess(["load", "-i", net.ifB, fixture("xdp_count.o")], net.nsB);
  try {
    await cli.waitFor((l) => l === "Loaded: xdp_count_prog, XDP");
    // tc (iproute2, libbpf inside) adds a cls_bpf filter on the same interface
    net.exec("b", "tc", ["qdisc", "add", "dev", net.ifB, "clsact"]);
    net.exec("b", "tc", [
      "filter",
      "add",
      "dev",
      net.ifB,
      "ingress",
      "bpf",
      "da",
      "obj",
      fixture("tc_count.o"),
      "sec",
      "tc",
    ]);

    const ours = JSON.parse(ok(["net", "--json"], net.nsB)) as {
      devname: string;
      ifindex: number;
      xdp: { mode: string; id: number; name: string }[];
      tc: { direction: string; kind: string; id: number; name: string; filter_name?: string }[];
    }[];
    const theirs = bpftool(["net"], net.nsB) as [
      {
        xdp: { devname: string; ifindex: number; mode: string; id: number }[];
        tc: { devname: string; kind: string; id: number; name: string }[];
      },
    ];
    assert.equal(ours.length, 1, JSON.stringify(ours));
    const iface = ours[0]!;
    assert.equal(iface.devname, net.ifB);
    assert.deepEqual(
      iface.xdp.map((x) => ({
        devname: iface.devname,
        ifindex: iface.ifindex,
        mode: x.mode,
        id: x.id,
      })),
      theirs[0].xdp.map((x) => ({
        devname: x.devname,
        ifindex: x.ifindex,
        mode: x.mode,
        id: x.id,
      })),
    );
    assert.equal(iface.xdp[0]!.name, "xdp_count_prog");
    assert.deepEqual(
      iface.tc.map((x) => ({ kind: `clsact/${x.direction}`, id: x.id, name: x.filter_name })),
      theirs[0].tc.map((x) => ({ kind: x.kind, id: x.id, name: x.name })),
    );
    assert.equal(iface.tc[0]!.name, "tc_count_prog");
    assert.match(
      ok(["net", "-i", net.ifB], net.nsB),
      new RegExp(
        `^${net.ifB}\\(\\d+\\):\\n\\txdp (generic|driver)  id ${iface.xdp[0]!.id}  xdp_count_prog\\n\\ttc ingress cls_bpf  id \\d+  tc_count_prog`,
      ),
    );

    // the XDP attachment is a bpf_link: listed with its interface, and detachable by id
    const links = JSON.parse(ok(["link", "list", "--json"])) as {
      id: number;
      type: string;
      prog_id: number;
      ifindex?: number;
    }[];
    const link = links.find((l) => l.prog_id === iface.xdp[0]!.id);
    assert.ok(link, "a link runs the XDP program");
    assert.deepEqual(link, {
      id: link.id,
      type: "xdp",
      prog_id: iface.xdp[0]!.id,
      ifindex: iface.ifindex,
    });
    const theirLink = (
      bpftool(["link", "show"]) as { id: number; type: string; prog_id: number }[]
    ).find((l) => l.id === link.id);
    assert.deepEqual(
      { id: theirLink?.id, type: theirLink?.type, prog_id: theirLink?.prog_id },
      { id: link.id, type: link.type, prog_id: link.prog_id },
    );
    assert.equal(
      ok(["link", "detach", "id", String(link.id)]),
      `detached link ${link.id} (xdp, prog ${link.prog_id})\n`,
    );
    assert.ok(
      await eventually(
        () =>
          (JSON.parse(ok(["net", "--json", "-i", net.ifB], net.nsB)) as typeof ours)[0]!.xdp
            .length === 0,
      ),
      "no XDP program after the detach",
    );
    const gone = tsbpf(["link", "detach", "id", "4294967295"]);
    assert.match(gone.stderr, /no link with id 4294967295/);
  } finally {
    await cli.stop("SIGINT");
  }
});

test("tsbpf prog|map|link|net --help describe each command", () => {
  for (const args of [
    ["prog", "list"],
    ["prog", "show"],
    ["map", "dump"],
    ["map", "get"],
    ["map", "update"],
    ["map", "delete"],
    ["link", "list"],
    ["link", "detach"],
    ["net"],
  ]) {
    const out = ok([...args, "--help"]);
    assert.match(out, new RegExp(`^Usage: tsbpf ${args.join(" ")}`), args.join(" "));
    if (args[1] === "list" || args[0] === "net" || args[1] === "dump") assert.match(out, /--json/);
  }
});
