// Diagnostics of the socket program kinds and maps (tsbpf/probe socket-kinds.ts): each misuse
// names what to write instead. (They run in the kernel in test/kernel/compiler/socket-kinds.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileSource } from "./support.js";

const IMPORTS =
  'import { perfEvent, lsm, sockops, skSkb, skMsg, SockMap, SockHash } from "tsbpf/probe";\n' +
  'const socks = map("socks", new SockMap({ maxEntries: 4 }));\n' +
  'const byPorts = map("by_ports", new SockHash(struct("P", { a: u32, b: u32 }), { maxEntries: 4 }));\n';

const fails = (body: string, message: RegExp) =>
  assert.throws(() => compileSource(IMPORTS + body), message);

test("SockMap/SockHash methods only where the kernel has their helpers", () => {
  fails(
    "export const p = xdp((ctx) => socks.redirect(ctx as never, 0));",
    /socks\.redirect\(\) works in skMsg and skSkb programs, not in xdp programs/,
  );
  fails(
    "export const p = skMsg((ctx) => { socks.update(ctx as never, 0); return SkAction.Pass; });",
    /socks\.update\(\) works in sockops programs \(user space updates the map with socket fds\)/,
  );
  fails(
    "export const p = skMsg((ctx) => socks.redirect(ctx, 0, { ingress: ctx.size > 0 }));",
    /options is a constant object, e\.g\. \{ ingress: true \}/,
  );
  fails(
    'export const p = skSkb("verdict" as never, () => 0);',
    /skSkb\(\): the hook is "stream_parser" or "stream_verdict"/,
  );
});

test("the socket kinds compile to their sections (what the kernel makes of them: the kernel test)", () => {
  const out = compileSource(
    IMPORTS +
      `export const a = skMsg((ctx) => byPorts.redirect(ctx, { a: ctx.localPort, b: ctx.remotePort }));
export const b = skSkb("stream_verdict", (ctx) => socks.redirect(ctx, 1, { ingress: true }));
export const c = sockops((ctx) => { ctx.reply = 1; return byPorts.update(ctx, { a: 1, b: 2 }); });
export const d = perfEvent((ctx) => (ctx.samplePeriod > 0n && ctx.ip() !== 0n ? 1 : 0));
export const e = lsm("file_open", (ctx) => (ctx.arg(0) === 0n ? -1 : 0));`,
  );
  assert.deepEqual(
    out.programs.map((p) => p.section),
    ["sk_msg", "sk_skb/stream_verdict", "sockops", "perf_event", "lsm/file_open"],
  );
});
