// What the compiler says about Histogram and log misuse: each error names the place and what
// to write instead (never silently wrong code).
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileSource } from "../compiler/support.js";

const IMPORTS = `import { Histogram, log } from "tsbpf/probe";\n`;
const rejects = (body: string, re: RegExp) =>
  assert.throws(
    () => compileSource(IMPORTS + body),
    (e: Error) => {
      assert.match(e.message, re);
      return true;
    },
  );

test("Histogram declarations and record calls are checked", () => {
  rejects(
    `const h = map("h", new Histogram({ slots: 99 }));
export const p = xdp(() => XdpAction.Pass);`,
    /Histogram "h": slots must be an integer 1 … 65/,
  );
  rejects(
    `const h = map("h", new Histogram({ linear: { start: 0, step: 0 }, slots: 4 }));
export const p = xdp(() => XdpAction.Pass);`,
    /positive integer step/,
  );
  rejects(
    `const h = map("h", new Histogram({ linear: { start: 0, step: 5 } }));
export const p = xdp(() => XdpAction.Pass);`,
    /a linear histogram needs slots/,
  );
  rejects(
    `const h = map("h", new Histogram({ key: u32, slots: 40 }));
export const p = xdp(() => XdpAction.Pass);`,
    /value \(320 bytes\) is built on the stack .* at most 32 slots/,
  );
  rejects(
    `const h = map("h", new Histogram({ maxEntries: 4 }));
export const p = xdp(() => XdpAction.Pass);`,
    /maxEntries is for keyed histograms/,
  );
  rejects(
    `const h = map("h", new Histogram({ key: u32 }));
export const p = xdp((ctx: XdpContext) => {
  // @ts-expect-error: TypeScript already asks for the key; the compiler says so too
  h.record(ctx.len());
  return XdpAction.Pass;
});`,
    /h.record\(key, value\): the histogram is keyed, pass the key first/,
  );
});

test("log calls: levels, argument types, names the compiler declares", () => {
  rejects(
    `const S = struct("S", { a: u32 });
const m = map("m", new ArrayMap(S, { maxEntries: 1 }));
export const p = xdp(() => { const s = m.get(0); if (s) log.info\`\${s as never}\`; return XdpAction.Pass; });`,
    /log: cannot print a whole S: log its fields/,
  );
  rejects(
    `const tsbpf_log = map("tsbpf_log", new ArrayMap(u32, { maxEntries: 1 }));
export const p = xdp(() => { log.info\`x\`; return XdpAction.Pass; });`,
    /the probe logs, so the compiler declares "tsbpf_log" itself/,
  );
  rejects(
    `const tag = (s: TemplateStringsArray) => 0;
export const p = xdp(() => { tag\`x\`; return XdpAction.Pass; });`,
    /tagged templates other than log.info`…`/,
  );
});
