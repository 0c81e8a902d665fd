// `tsbpf load` and a probe's logs over a real interface: `--json` lines (`{"log": …}`) with
// the typed arguments formatted, `--log-level debug` letting debug logs through, Ctrl-C exits 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { createNetnsPair, netnsUnavailable } from "../../support/netns.js";
import { CliProcess } from "../cli/cli-process.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { virtualPath } from "../../unit/compiler/support.js";

const PROBE = `import { program, xdp, XdpAction, log } from "tsbpf/probe";
program({ license: "GPL" });
export const icmp_log = xdp((ctx) => {
  const ip = ctx.ip();
  const t = ctx.icmp();
  if (!ip || ip.version !== 4 || !t) return XdpAction.Pass;
  log.debug\`len \${ctx.len()}\`;
  log.info\`echo \${t.type === 8 ? 1 : 0} seq \${t.sequence} from \${ip.saddr}\`;
  return XdpAction.Pass;
});
`;

test("tsbpf load --json --log-level debug: the probe's logs as JSON lines", async (t) => {
  if (!needsKernel(t, netnsUnavailable())) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-log-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = virtualPath("icmp_log");
  const elf = join(dir, "icmp_log.elf");
  writeFileSync(elf, compileProbe(path, { sources: new Map([[path, PROBE]]) }).elf);
  using net = createNetnsPair();
  const cli = new CliProcess(
    ["load", "-i", net.ifB, "--json", "--log-level", "debug", elf],
    net.nsB,
  );
  try {
    // with --json, stdout carries only JSON: the Loaded line is on stderr
    for (
      const end = Date.now() + 20_000;
      !cli.stderr.includes("Loaded: icmp_log, XDP\n");
      await new Promise((r) => setTimeout(r, 50))
    )
      assert.ok(Date.now() < end, `tsbpf load did not start: ${cli.stderr}`);
    assert.equal(net.ping("a", 2), 2);
    const want = (seq: number) =>
      JSON.stringify({
        log: {
          level: "info",
          message: `echo 1 seq ${seq} from ${net.ipA}`,
          file: path.split("/").pop(),
          line: 8,
        },
      });
    await cli.waitFor((l) => l === want(2));
    const r = await cli.stop("SIGINT");
    assert.deepEqual(r, { code: 0, signal: null }, cli.stderr);
    const logs = cli.lines.filter((l) => l.startsWith('{"log"'));
    assert.deepEqual(logs, [
      JSON.stringify({
        log: { level: "debug", message: "len 98", file: path.split("/").pop(), line: 7 },
      }),
      want(1),
      JSON.stringify({
        log: { level: "debug", message: "len 98", file: path.split("/").pop(), line: 7 },
      }),
      want(2),
    ]);
  } finally {
    await cli.stop("SIGKILL");
  }
});
