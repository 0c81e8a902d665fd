// Reads the runnable parts of a markdown walk-through: fenced `sh` blocks of commands with
// their expected output, and fenced `ts file=NAME` blocks of files to write.
//
// In an `sh` block, a line starting with `$ ` or `# ` is a command (user / root prompt); the
// lines after it, up to the next command, are its expected output. In expected output `…`
// matches any text within a line, and a line that is only `…` matches any number of lines.
// A last output line `^C` means the command runs until interrupted. Attributes after the
// language: `fails` (commands exit non-zero), `second-terminal` (run while the previous
// `^C` command is running).

export interface Command {
  /** the command line, without its prompt */
  cmd: string;
  root: boolean;
  expected: string[];
  /** runs until Ctrl-C (its output ends with `^C`) */
  interrupted: boolean;
}

export type Block =
  | { kind: "sh"; line: number; fails: boolean; secondTerminal: boolean; commands: Command[] }
  | { kind: "file"; line: number; path: string; text: string };

const SH_ATTRS = new Set(["fails", "second-terminal"]);

export function runnableBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    if (end === lines.length) throw new Error(`line ${i + 1}: unterminated code block`);
    const body = lines.slice(start, end);
    const [lang, attrText] = [open[1]!, open[2]!.trim()];
    const attrs = attrText ? attrText.split(/\s+/) : [];
    i = end;
    if (lang === "sh") {
      for (const a of attrs)
        if (!SH_ATTRS.has(a)) throw new Error(`line ${start}: unknown sh block attribute ${a}`);
      const commands: Command[] = [];
      for (const l of body) {
        const cmd = /^([$#]) (.*)$/.exec(l);
        if (cmd)
          commands.push({ cmd: cmd[2]!, root: cmd[1] === "#", expected: [], interrupted: false });
        else if (commands.length === 0)
          throw new Error(`line ${start}: output before the first command: ${l}`);
        else commands.at(-1)!.expected.push(l);
      }
      for (const c of commands)
        if (c.expected.at(-1) === "^C") {
          c.interrupted = true;
          c.expected.pop();
        }
      blocks.push({
        kind: "sh",
        line: start,
        fails: attrs.includes("fails"),
        secondTerminal: attrs.includes("second-terminal"),
        commands,
      });
    } else if (lang === "ts" && attrs.some((a) => a.startsWith("file="))) {
      const path = attrs.find((a) => a.startsWith("file="))!.slice("file=".length);
      blocks.push({ kind: "file", line: start, path, text: body.join("\n") + "\n" });
    }
  }
  return blocks;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether `actual` lines match `expected` (with `…` wildcards, see above). */
export function matchesOutput(expected: readonly string[], actual: readonly string[]): boolean {
  const res = expected.map((e) =>
    e === "…" ? undefined : new RegExp(`^${e.split("…").map(escape).join(".*")}$`),
  );
  // Memoised so that runs of `…` lines stay linear enough for long outputs.
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (actual.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === res.length) r = j === actual.length;
    else if (res[i] === undefined) r = go(i + 1, j) || (j < actual.length && go(i, j + 1));
    else r = j < actual.length && res[i]!.test(actual[j]!) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}
