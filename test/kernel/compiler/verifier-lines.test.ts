// A probe the verifier rejects: the error names the TypeScript line at fault, because the
// object carries .BTF.ext line info pointing at the probe source.
import { test } from "node:test";
import assert from "node:assert/strict";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/collection.js";
import { VerifierError } from "../../../src/verifier.js";
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
  assert.match(err.log, /; const first = d\.read\(4\)!\.at\(0\); @ /);
});
