// A probe the verifier rejects: the error names the TypeScript line at fault, because the
// object carries .BTF.ext line info pointing at the probe source.
import { test } from "node:test";
import assert from "node:assert/strict";
import { basename } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { VerifierError } from "../../../src/load/verifier.js";
import { HEADER, lineOf, virtualPath } from "../../unit/compiler/support.js";

test("verifier rejections point at the probe's TypeScript line", (t) => {
  if (!needsKernel(t)) return;
  // `!` silences TypeScript, but read(4) is null for short packets: the load is unchecked.
  const body = `export const p = xdp((ctx: XdpContext) => {
  const d = ctx.data()!;
  const first = d.read(4)!.at(0);
  return first === 71 ? XdpAction.Drop : XdpAction.Pass;
});
`;
  const path = virtualPath("reject");
  const compiled = compileProbe(path, { sources: new Map([[path, HEADER + body]]) });
  let err: unknown;
  try {
    Collection.load(compiled.elf).close();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof VerifierError, `expected a VerifierError, got ${String(err)}`);
  assert.equal(err.source?.line, lineOf(body, "d.read(4)!"));
  assert.match(err.source!.text, /const first = d\.read\(4\)!\.at\(0\);/);
  assert.equal(err.source!.fileName, path);
  // The kernel interleaves source lines from our line info: the last one before the rejected
  // instruction must be this line. 6.2+ append " @ file:line", 6.1 prints the text alone, and
  // the reason's wording varies between kernels, so only the annotation is judged.
  const lines = err.log.split("\n");
  const lastInsn = lines.findLastIndex((l) => /^\d+: \(/.test(l));
  assert.ok(lastInsn > 0, `no instruction in the verifier log:\n${err.log}`);
  const annotation = lines.slice(0, lastInsn).findLast((l) => l.startsWith("; "));
  const m = /^; const first = d\.read\(4\)!\.at\(0\);(?: @ (\S+):(\d+))?$/.exec(annotation ?? "");
  assert.ok(m, `the rejected instruction is annotated with "${annotation}", not the probe line`);
  if (m[1] !== undefined) {
    assert.equal(m[1], basename(path));
    assert.equal(Number(m[2]), lineOf(body, "d.read(4)!"));
  }
});
