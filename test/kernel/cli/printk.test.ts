// docs/running.md, "Where tracePrintk output goes": a probe's tracePrintk line lands in the
// kernel's trace buffer in the format the doc shows. Read from /sys/kernel/tracing/trace,
// which does not consume it (trace_pipe would take lines from anyone else reading it), and
// recognised by a marker carrying this process's pid and the time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { needsKernel } from "../../support/kernel.js";
import { compileProbe } from "../../../src/compiler/index.js";
import { Collection } from "../../../src/load/collection.js";
import { tracefsRoot } from "../../../src/sys/tracefs.js";
import { frame } from "../../unit/compiler/packets.js";

test("tracePrintk writes `bpf_trace_printk: <text>` lines to the trace buffer", (t) => {
  if (!needsKernel(t)) return;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-printk-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const marker = `tsbpf-printk-${process.pid}-${Date.now().toString(36)}`;
  const file = join(dir, "probe.ts");
  writeFileSync(
    file,
    `import { program, xdp, tracePrintk, XdpAction, type XdpContext } from "tsbpf/probe";
program({ license: "GPL" });
export const say = xdp((ctx: XdpContext) => {
  tracePrintk("${marker} seen %d\\n", ctx.len());
  return XdpAction.Pass;
});
`,
  );
  using coll = Collection.load(compileProbe(file).elf);
  const packet = frame({ ip: 4, proto: "udp", dport: 53 });
  assert.equal(coll.program("say").testRun({ data: packet }).retval, 2, "XDP_PASS");
  const lines = readFileSync(`${tracefsRoot()}/trace`, "utf8")
    .split("\n")
    .filter((l) => l.includes(marker));
  assert.equal(lines.length, 1, `one line with ${marker}`);
  assert.match(
    lines[0]!,
    new RegExp(
      `^\\s*\\S+-\\d+\\s+\\[\\d{3}\\] \\S+\\s+\\d+\\.\\d+: bpf_trace_printk: ${marker} seen ${packet.length}$`,
    ),
  );
});
