// The TypeScript blocks of README.md and docs/*.md, with how each is tested (the conventions
// are described in test/unit/docs/ts-examples.test.ts, which checks them all).
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileProbe } from "../../src/compiler/index.js";
import { skeletonText } from "../../src/skel/write.js";

export const root = fileURLToPath(new URL("../../..", import.meta.url));
export const PAGES = [
  "README.md",
  ...readdirSync(join(root, "docs")).map((f) => `docs/${f}`),
].filter((f) => f.endsWith(".md"));

export interface Block {
  page: string;
  line: number;
  mode: "check" | "probe" | "file" | "tested-elsewhere";
  file?: string;
  /** also a probe module (file=NAME probe) */
  probe: boolean;
  marker?: string;
  given: string;
  /** appended: the end of a function whose body the block shows */
  givenEnd: string;
  /** `ts check run`: also run (as root, beside the fixture objects) by test/kernel/docs */
  run: boolean;
  /** run only: code put before the block (values for what `given` only declares) */
  givenRun: string;
  /** run only: texts the output must contain, in this order */
  expect: string[];
  code: string;
}

export interface Page {
  page: string;
  blocks: Block[];
  files: Map<string, string>;
  unmarked: number[];
}

export function readPage(page: string): Page {
  const lines = readFileSync(join(root, page), "utf8").split("\n");
  const out: Page = { page, blocks: [], files: new Map(), unmarked: [] };
  const comments: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const hidden = /^\s*<!--\s*given-file\s+(\S+):\s*([\s\S]*?)\s*-->$/.exec(line);
    if (hidden) out.files.set(hidden[1]!, hidden[2]!);
    const skel = /^\s*<!--\s*given-skeleton\s+(\S+):\s*(\S+)\s*-->$/.exec(line);
    if (skel) out.files.set(skel[1]!, skeletonOf(skel[2]!));
    if (/^\s*<!--.*-->$/.test(line)) {
      comments.push(line);
      continue;
    }
    const fence = /^(\s*)```(\S*)\s*(.*)$/.exec(line);
    if (!fence) {
      if (line.trim() !== "") comments.length = 0;
      continue;
    }
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trim().startsWith("```")) end++;
    const indent = fence[1]!.length; // a block inside a list item
    const code = lines
      .slice(i + 1, end)
      .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
      .join("\n");
    const [lang, attrs] = [fence[2]!, fence[3]!.split(/\s+/).filter(Boolean)];
    const here = comments.splice(0);
    const start = i + 1;
    i = end;
    if (lang !== "ts") continue;
    const given = here
      .map((c) => /^\s*<!--\s*given:\s*([\s\S]*?)\s*-->$/.exec(c)?.[1])
      .filter((g): g is string => g !== undefined)
      .join("\n");
    const givenEnd = here
      .map((c) => /^\s*<!--\s*given-end:\s*([\s\S]*?)\s*-->$/.exec(c)?.[1])
      .filter((g): g is string => g !== undefined)
      .join("\n");
    const all = (re: RegExp): string[] =>
      here.map((c) => re.exec(c)?.[1]).filter((g): g is string => g !== undefined);
    const marker = here
      .map((c) => /^\s*<!--\s*(?:example|example-body|test):\s*([\w-]+)/.exec(c)?.[1])
      .find((m) => m !== undefined);
    const file = attrs.find((a) => a.startsWith("file="))?.slice(5);
    const probe = attrs.includes("probe");
    const block: Block = {
      ...{ page, line: start, mode: "check", probe, given, givenEnd, code },
      run: attrs.includes("run"),
      givenRun: all(/^\s*<!--\s*given-run:\s*([\s\S]*?)\s*-->$/).join("\n"),
      expect: all(/^\s*<!--\s*expect:\s*([\s\S]*?)\s*-->$/),
    };
    if (marker !== undefined) Object.assign(block, { mode: "tested-elsewhere", marker });
    else if (file !== undefined) Object.assign(block, { mode: "file", file });
    else if (probe) block.mode = "probe";
    else if (!attrs.includes("check")) {
      out.unmarked.push(start);
      continue;
    }
    if (block.file !== undefined) out.files.set(block.file, code);
    out.blocks.push(block);
  }
  return out;
}

/** The skeleton `tsbpf build` writes beside the object of the repository's probe `entry`. */
function skeletonOf(entry: string): string {
  const abs = join(root, entry);
  const name = basename(dirname(abs));
  return skeletonText(`${root}/target/${name}.elf`, compileProbe(abs), {
    name,
    entry: abs,
    cwd: root,
  });
}
