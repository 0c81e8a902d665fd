// The tutorial test's markdown reader and output matcher.
import { test } from "node:test";
import assert from "node:assert/strict";
import { matchesOutput, runnableBlocks } from "../../kernel/tutorial/markdown.js";

test("runnableBlocks: commands, their output, attributes, files", () => {
  const md = [
    "text",
    "```sh",
    "$ echo hi",
    "hi",
    "# ip link",
    "…",
    "```",
    "```",
    "not run",
    "```",
    "```ts file=a.ts",
    "export const a = 1;",
    "```",
    "```sh second-terminal",
    "# tail -f x",
    "line",
    "^C",
    "```",
    "```ts",
    "not a file",
    "```",
  ].join("\n");
  assert.deepEqual(runnableBlocks(md), [
    {
      kind: "sh",
      line: 2,
      fails: false,
      secondTerminal: false,
      commands: [
        { cmd: "echo hi", root: false, expected: ["hi"], interrupted: false },
        { cmd: "ip link", root: true, expected: ["…"], interrupted: false },
      ],
    },
    { kind: "file", line: 11, path: "a.ts", text: "export const a = 1;\n" },
    {
      kind: "sh",
      line: 14,
      fails: false,
      secondTerminal: true,
      commands: [{ cmd: "tail -f x", root: true, expected: ["line"], interrupted: true }],
    },
  ]);
  assert.throws(() => runnableBlocks("```sh\noutput\n```"), /output before the first command/);
  assert.throws(() => runnableBlocks("```sh flaky\n$ x\n```"), /unknown sh block attribute flaky/);
  assert.throws(() => runnableBlocks("```sh\n$ x\n"), /unterminated code block/);
});

test("matchesOutput: exact lines, … within a line, … lines", () => {
  assert.ok(matchesOutput(["a", "b"], ["a", "b"]));
  assert.ok(!matchesOutput(["a", "b"], ["a", "b", "c"]));
  assert.ok(!matchesOutput(["a"], ["A"]));
  assert.ok(matchesOutput(["Compiled x (… ms)"], ["Compiled x (12 ms)"]));
  assert.ok(!matchesOutput(["Compiled x (… ms)"], ["Compiled y (12 ms)"]));
  assert.ok(matchesOutput(["a", "…"], ["a"]));
  assert.ok(matchesOutput(["a", "…"], ["a", "x", "y"]));
  assert.ok(matchesOutput(["…", "z"], ["x", "y", "z"]));
  assert.ok(!matchesOutput(["…", "z"], ["x", "z", "y"]));
  assert.ok(matchesOutput(["a.b(c)"], ["a.b(c)"]), "regex characters are literal");
  assert.ok(!matchesOutput(["a.b"], ["axb"]));
  assert.ok(matchesOutput([], []));
  const many = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
  assert.ok(matchesOutput(["…", "line 1999"], many));
  assert.ok(matchesOutput(["line 0", "…", "…", "line 1999"], many));
});
