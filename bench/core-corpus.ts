// CO-RE on third-party objects, tsbpf vs libbpf: every object of a folder (built by
// scripts/build-core-corpus.sh into .corpus/obj) is loaded by `bpftool prog loadall` (libbpf)
// and by tsbpf's Collection, and each program's translated instructions (xlated, map ids
// blanked) are compared. A benchmark, not a test: it needs fetched sources, so CI cannot run
// it; bench/README.md records a run.
//
//   node dist/bench/core-corpus.js [--dir .corpus/obj] [--btf FILE] [--verbose]
//
// Prints one row per object and the totals: objects/programs each loader loads, programs
// whose code is equal, programs whose code differs (named).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { Collection, Program } from "tsbpf";
import { progXlatedInsns } from "../src/sys/info.js";

const LDDW = 0x18;

/** Xlated instructions as hex, with the map ids of map lddws blanked. */
function xlated(fd: number): string[] {
  const raw = progXlatedInsns(fd);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 8) {
    let hex = Buffer.from(raw.subarray(i, i + 8)).toString("hex");
    if (raw[i] === LDDW && [1, 2, 5, 6].includes(raw[i + 1]! >> 4)) hex = hex.slice(0, 8) + "map";
    out.push(hex);
  }
  return out;
}

interface Side {
  programs: Map<string, string[]>;
  error?: string;
}

function viaBpftool(obj: string): Side {
  const dir = `/sys/fs/bpf/tsbpf-corpus-${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  const r = spawnSync("bpftool", ["prog", "loadall", obj, dir], { encoding: "utf8" });
  try {
    if (r.status !== 0) {
      const lines = `${r.stderr}`
        .split("\n")
        .filter((l) => l.startsWith("libbpf:") || /Error/.test(l));
      return {
        programs: new Map(),
        error: (lines.at(-2) ?? lines.at(-1) ?? "failed").slice(0, 100),
      };
    }
    const programs = new Map<string, string[]>();
    // bpftool succeeds without creating the folder when the object has no program to pin
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      using p = Program.fromPin(join(dir, name));
      programs.set(name, xlated(p.fd));
    }
    return { programs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function viaTsbpf(obj: string, btfPath: string | undefined): Side {
  try {
    using c = Collection.load(readFileSync(obj), {
      objectName: basename(obj).split(".")[0]!,
      ...(btfPath !== undefined && { btfPath }),
    });
    const programs = new Map<string, string[]>();
    for (const [name, p] of c.programs) programs.set(name, xlated(p.fd));
    return { programs };
  } catch (e) {
    const err = e as Error;
    return {
      programs: new Map(),
      error: `${err.name}: ${err.message.split("\n")[0]!.slice(0, 100)}`,
    };
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      dir: { type: "string", default: ".corpus/obj" },
      btf: { type: "string" },
      verbose: { type: "boolean", default: false },
    },
  });
  const dir = values.dir!;
  const objects = readdirSync(dir)
    .filter((f) => f.endsWith(".o"))
    .sort();
  const rows: string[][] = [["object", "bpftool", "tsbpf", "equal", "differ", "note"]];
  const t = { objects: 0, both: 0, libbpfOnly: 0, tsbpfOnly: 0, progs: 0, equal: 0, differ: 0 };
  const differing: string[] = [];
  for (const f of objects) {
    const obj = join(dir, f);
    const theirs = viaBpftool(obj);
    const ours = viaTsbpf(obj, values.btf);
    t.objects++;
    const okTheirs = theirs.error === undefined;
    const okOurs = ours.error === undefined;
    if (okTheirs && okOurs) t.both++;
    else if (okTheirs) t.libbpfOnly++;
    else if (okOurs) t.tsbpfOnly++;
    let equal = 0;
    let differ = 0;
    for (const [name, code] of theirs.programs) {
      t.progs++;
      const mine = ours.programs.get(name);
      if (!mine) continue;
      if (mine.length === code.length && mine.every((x, i) => x === code[i])) equal++;
      else {
        differ++;
        differing.push(`${f}:${name}`);
        if (values.verbose) {
          const at = mine.findIndex((x, i) => x !== code[i]);
          console.error(`${f}:${name}: first difference at insn ${at}: ${mine[at]} vs ${code[at]}`);
        }
      }
    }
    t.equal += equal;
    t.differ += differ;
    const note =
      !okTheirs && !okOurs
        ? "both fail"
        : (ours.error ?? (okTheirs ? "" : `libbpf: ${theirs.error}`));
    rows.push([
      f.replace(/\.o$/, ""),
      okTheirs ? String(theirs.programs.size) : "fail",
      okOurs ? String(ours.programs.size) : "fail",
      String(equal),
      String(differ),
      note,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(`| ${r.map((x, c) => x.padEnd(widths[c]!)).join(" | ")} |`);
  console.log(
    `\n${t.objects} objects: both load ${t.both}, only libbpf ${t.libbpfOnly}, only tsbpf ${t.tsbpfOnly}; ` +
      `${t.progs} programs loaded by libbpf, ${t.equal} with equal xlated code in tsbpf, ${t.differ} differing` +
      (differing.length ? ` (${differing.join(", ")})` : ""),
  );
}

main();
