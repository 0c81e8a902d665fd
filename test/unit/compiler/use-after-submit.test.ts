// A ring buffer record used on any path after submit()/discard() is TSBPF1006 at the use,
// naming the submit's line (issue 17): across if/else, switch, loops and && chains; code on
// paths where the record was not released compiles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CompileError, Code } from "../../../src/compiler/index.js";
import { compileSource, lineOf } from "./support.js";

const PRE = `const Ev = struct("Ev", { x: u32, y: u32 });\nconst rb = map("rb", new RingBuf(Ev, { maxEntries: 4096 }));\nconst m = map("m", new ArrayMap(u32, { maxEntries: 4 }));\n`;
const prog = (body: string) =>
  `${PRE}export const p = xdp((ctx: XdpContext) => {\n  const a = ctx.len();\n${body}\n  return XdpAction.Pass;\n});\n`;

function rejects(body: string, use: string, call: string, method = "submit"): void {
  const src = prog(body);
  let err: unknown;
  try {
    compileSource(src);
  } catch (e) {
    err = e;
  }
  assert.ok(
    err instanceof CompileError,
    `expected a CompileError for:\n${body}\ngot ${String(err)}`,
  );
  assert.equal(err.code, Code.BadApi, err.message);
  assert.equal(err.line, lineOf(src, use), err.format());
  assert.match(
    err.message,
    new RegExp(`passed to ${method}\\(\\) \\(line ${lineOf(src, call)}\\)`),
  );
}

test("a use after the if/else that submitted on one branch", () => {
  rejects(
    "  const e = rb.reserve();\n  if (!e) return XdpAction.Pass;\n  if (a > 3) {\n    rb.submit(e);\n  } else {\n    e.x = 1;\n  }\n  e.y = 2;",
    "e.y = 2",
    "rb.submit(e)",
  );
});

test("a use in the else branch is fine; after both branches submitted, any use is not", () => {
  compileSource(
    prog(
      "  const e = rb.reserve();\n  if (!e) return XdpAction.Pass;\n  if (a > 3) {\n    rb.submit(e);\n  } else {\n    e.x = 1;\n    rb.submit(e);\n  }",
    ),
  );
  rejects(
    "  const e = rb.reserve();\n  if (!e) return XdpAction.Pass;\n  if (a > 3) rb.submit(e);\n  else rb.discard(e);\n  m.set(0, e.x);",
    "m.set(0, e.x)",
    "rb.submit(e)",
  );
});

test("switch: fall-through from a case that submitted, and after the switch", () => {
  rejects(
    "  const e = rb.reserve();\n  if (!e) return XdpAction.Pass;\n  switch (a) {\n    case 1:\n      rb.submit(e);\n    case 2:\n      e.x = 5;\n      break;\n    default:\n      rb.discard(e);\n      return XdpAction.Drop;\n  }\n  if (a === 2) rb.submit(e);",
    "e.x = 5",
    "rb.submit(e)",
  );
  rejects(
    "  const e = rb.reserve();\n  if (!e) return XdpAction.Pass;\n  switch (a) {\n    case 1:\n      rb.discard(e);\n      break;\n    default:\n      e.x = 1;\n  }\n  e.y = 1;",
    "e.y = 1",
    "rb.discard(e)",
    "discard",
  );
});

test("loops: the next iteration, and the code after the loop", () => {
  rejects(
    "  const e = rb.reserve();\n  if (!e) return XdpAction.Pass;\n  for (let i = 0; i < 4; i++) {\n    e.x = i;\n    if (i === 3) rb.submit(e);\n  }",
    "e.x = i",
    "rb.submit(e)",
  );
  rejects(
    "  const e = rb.reserve();\n  if (!e) return XdpAction.Pass;\n  for (let i = 0; i < 4; i++) {\n    if (i === a) { rb.submit(e); break; }\n  }\n  e.x = 1;",
    "e.x = 1;",
    "rb.submit(e)",
  );
});

test("a record reserved in each iteration, submitted or discarded on every path, compiles", () => {
  compileSource(
    prog(
      "  for (let i = 0; i < 4; i++) {\n    const e = rb.reserve();\n    if (!e) continue;\n    e.x = i;\n    if (i === a) { rb.discard(e); continue; }\n    e.y = a;\n    rb.submit(e);\n  }",
    ),
  );
});

test("&& chains: the right side may not run, so a use after it is on a released path", () => {
  rejects(
    "  const e = rb.reserve();\n  if (!e) return XdpAction.Pass;\n  const ok = a > 3 && rb.submit(e) === undefined;\n  if (ok) return XdpAction.Drop;\n  e.x = 1;\n  rb.submit(e);",
    "e.x = 1",
    "rb.submit(e) ===",
  );
});
