// redirect() is typed by its use: `return redirect(ifindex)` type-checks in xdp and tc
// programs without a cast (docs/probe-language.md, "Helpers").
import { test } from "node:test";
import assert from "node:assert/strict";
import { disassemble } from "../../../src/obj/disasm.js";
import { compileSource } from "./support.js";

const IMPORT = `import { redirect } from "tsbpf/probe";\n`;

const uses: Record<string, string> = {
  "xdp, returned": `export const p = xdp((ctx: XdpContext) => redirect(ctx.ingressIfindex));`,
  "xdp, in a ternary": `export const p = xdp((ctx: XdpContext) => {\n  return ctx.len() > 60 ? redirect(3, 0) : XdpAction.Pass;\n});`,
  "xdp, through a function returning XdpAction": `function fwd(i: number): XdpAction {\n  return redirect(i);\n}\nexport const p = xdp(() => fwd(2));`,
  "xdp, bound without a type and compared": `export const p = xdp(() => {\n  const r = redirect(2);\n  return r === XdpAction.Redirect ? XdpAction.Redirect : XdpAction.Aborted;\n});`,
  "xdp, as a number": `export const p = xdp(() => {\n  const r: number = redirect(2);\n  return r === 4 ? XdpAction.Redirect : XdpAction.Aborted;\n});`,
  "tc, returned": `export const p = tc(() => redirect(3));`,
  "tc, in a branch": `export const p = tc((ctx) => {\n  if (ctx.len > 100) return redirect(3, 0);\n  return TcAction.Ok;\n});`,
};

for (const [name, src] of Object.entries(uses))
  test(`redirect() needs no cast: ${name}`, () => {
    const p = compileSource(IMPORT + src).programs[0]!;
    assert.ok(
      disassemble(p.insns).some((l) => l.includes("call bpf_redirect#23")),
      disassemble(p.insns).join("\n"),
    );
  });
