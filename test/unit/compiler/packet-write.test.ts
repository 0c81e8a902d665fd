// Packet writes, packet-changing helpers and ICMP: what compiles, and every misuse reported at
// its position with what to write instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CompileError, CompileErrors, Code } from "../../../src/compiler/index.js";
import { compileSource, lineOf } from "./support.js";

const PROBE = `import { program, map, xdp, tc, cgroupSkb, socketFilter, ArrayMap, XdpAction, TcAction, SkAction, csumReplace, csumDiff, csumFold, helper, type XdpContext } from "tsbpf/probe";
import { struct, array, u8, u32, u64, type Infer } from "tsbpf/types";
program({ license: "GPL" });
const Mac = struct("Mac", { addr: array(u8, 6), pad: array(u8, 2) });
`;

const xdpProg = (body: string) =>
  `${PROBE}export const p = xdp((ctx: XdpContext) => {\n${body}\n  return XdpAction.Pass;\n});\n`;
const tcProg = (body: string) =>
  `${PROBE}export const p = tc((ctx) => {\n${body}\n  return TcAction.Ok;\n});\n`;

function errorOf(src: string): CompileError {
  try {
    compileSource(src, { raw: true });
  } catch (e) {
    if (e instanceof CompileError) return e;
    if (e instanceof CompileErrors) return e.errors[0]!;
    throw e;
  }
  assert.fail("expected a compile error");
}

interface Case {
  name: string;
  src: string;
  at: string;
  code: number;
  message: RegExp;
}

const cases: Case[] = [
  {
    name: "a view used after adjustHead",
    src: xdpProg(
      "  const eth = ctx.eth();\n  if (!eth) return XdpAction.Pass;\n  ctx.adjustHead(4);\n  eth.swapMacs();",
    ),
    at: "eth.swapMacs()",
    code: Code.BadApi,
    message:
      /formed before bpf_xdp_adjust_head \(line \d+\) changed the packet.*Parse the header again/,
  },
  {
    name: "a field read after a csum helper in tc",
    src: tcProg(
      '  const t = ctx.packet().transport();\n  if (!t || t.protocol !== "udp") return TcAction.Ok;\n  ctx.l4CsumReplace(40, 1, 2, 2);\n  const x = t.dest();\n  if (x === 3) return TcAction.Shot;',
    ),
    at: "t.dest()",
    code: Code.BadApi,
    message: /formed before bpf_l4_csum_replace/,
  },
  {
    name: "a view used after helper(xdp_adjust_tail) by id",
    src: xdpProg(
      "  const ip = ctx.ip();\n  if (!ip || ip.version !== 4) return XdpAction.Pass;\n  helper(65, ctx, -4);\n  ip.ttl = 1;",
    ),
    at: "ip.ttl = 1",
    code: Code.BadApi,
    message: /formed before helper 65/,
  },
  {
    name: "an unnarrowed IP header written",
    src: xdpProg("  const ip = ctx.ip();\n  if (!ip) return XdpAction.Pass;\n  ip.hopLimit = 3;"),
    at: "ip.hopLimit",
    code: Code.TypeError,
    message: /hopLimit/,
  },
  {
    name: "a cgroup skb program writing the packet",
    src: `${PROBE}export const p = cgroupSkb("egress", (ctx) => {\n  const ip = ctx.packet().ip();\n  if (ip && ip.version === 4) ip.ttl = 1;\n  return SkAction.Pass;\n});\n`,
    at: "ip.ttl = 1",
    code: Code.BadApi,
    message: /cgroup skb programs may read the packet but not write it.*xdp or tc/,
  },
  {
    name: "tc helpers in xdp",
    src: xdpProg("  ctx.pullData(40);"),
    at: "ctx.pullData(40)",
    code: Code.TypeError,
    message: /pullData/,
  },
  {
    name: "mark in a socket filter",
    src: `${PROBE}export const p = socketFilter((ctx) => {\n  (ctx as unknown as { mark: number }).mark = 1;\n  return 0;\n});\n`,
    at: "(ctx as unknown",
    code: Code.BadApi,
    message: /ctx\.mark cannot be written in a socketFilter program/,
  },
  {
    name: "ctx.transport() after the probe fixed the protocol to ICMP",
    src: xdpProg(
      "  const ip = ctx.ip();\n  if (!ip || ip.version !== 4 || ip.protocol !== 1) return XdpAction.Pass;\n  const t = ctx.transport();\n  if (t) return XdpAction.Drop;",
    ),
    at: "ctx.transport()",
    code: Code.BadApi,
    message: /always null here: line \d+ established IP protocol 1.*ctx\.icmp\(\)/,
  },
  {
    name: "ctx.data() inside `if (ip.protocol === 58)`",
    src: xdpProg(
      "  const ip = ctx.ip();\n  if (ip && ip.version === 6 && ip.protocol === 58) {\n    const d = ctx.data();\n    if (d) return XdpAction.Drop;\n  }",
    ),
    at: "ctx.data()",
    code: Code.BadApi,
    message: /established IP protocol 58.*ICMPv6 header is ctx\.icmp\(\)/,
  },
  {
    name: "a MAC assigned an IPv6 address",
    src: xdpProg(
      "  const eth = ctx.eth();\n  const ip = ctx.ip();\n  if (eth) eth.dst = 5n;\n  const v: Infer<typeof Mac> = { addr: new Uint8Array(6), pad: new Uint8Array(2) };\n  if (eth) eth.src = v.addr;\n  if (eth && ip && ip.version === 6) eth.src = ip.saddr;",
    ),
    at: "eth.src = ip.saddr",
    code: Code.BadApi,
    message: /a MAC address is assigned another header's MAC/,
  },
  {
    name: "updateChecksum on IPv6",
    src: xdpProg(
      "  const ip = ctx.ip();\n  if (ip && ip.version === 6) (ip as unknown as { updateChecksum(): void }).updateChecksum();",
    ),
    at: "(ip as unknown",
    code: Code.BadApi,
    message: /IPv6 has no header checksum/,
  },
  {
    name: "l4CsumReplace with a run-time size",
    src: tcProg("  const n = ctx.len & 2;\n  ctx.l4CsumReplace(40, 1, 2, n as 2);"),
    at: "n as 2",
    code: Code.BadApi,
    message: /the size must be a constant 2 or 4/,
  },
  {
    name: "read(n) with a run-time n and no largest value",
    src: xdpProg(
      "  const d = ctx.data();\n  const n = ctx.len() & 7;\n  const b = d && d.read(n);\n  if (b) return XdpAction.Drop;",
    ),
    at: "d.read(n)",
    code: Code.BadApi,
    message: /needs its largest value.*read\(n, 64\)/,
  },
  {
    name: "vlan(2)",
    src: xdpProg("  const v = ctx.vlan(2 as 1);\n  if (v) return XdpAction.Drop;"),
    at: "ctx.vlan(2 as 1)",
    code: Code.BadApi,
    message: /index is the constant 0 \(the outer tag\) or 1/,
  },
  {
    name: "helper() with a pointer into the tracepoint record",
    src: `${PROBE}import { tracepoint } from "tsbpf/probe";\nconst R = struct("R", { a: array(u8, 8) });\nexport const p = tracepoint("sched", "sched_switch", R, (ctx) => {\n  helper(28, 0, 0, ctx.fields.a, 8, 0);\n  return 0;\n});\n`,
    at: "helper(28",
    code: Code.BadApi,
    message: /cannot take pointers into the context.*struct local/,
  },
];

for (const c of cases)
  test(`diagnostic: ${c.name}`, () => {
    const e = errorOf(c.src);
    assert.equal(e.code, c.code, e.message);
    assert.match(e.message, c.message);
    assert.equal(e.line, lineOf(c.src, c.at, true), e.message);
  });

test("a view parsed again after the helper, and one used only on a path that returned, compile", () => {
  compileSource(
    xdpProg(
      "  const eth = ctx.eth();\n  if (!eth) return XdpAction.Pass;\n  if (ctx.len() > 1000) {\n    ctx.adjustTail(-4);\n    return XdpAction.Pass;\n  }\n  eth.swapMacs();\n  if (ctx.adjustHead(0) !== 0) return XdpAction.Aborted;\n  const e2 = ctx.eth();\n  if (e2) e2.swapMacs();",
    ),
    { raw: true },
  );
});

test("writes compile to stores through the checked pointer; ICMP parses", () => {
  const out = compileSource(
    xdpProg(
      "  const eth = ctx.eth();\n  const ip = ctx.ip();\n  const i = ctx.icmp();\n  if (!eth || !ip || ip.version !== 4 || !i) return XdpAction.Pass;\n  eth.dst = 0x020000000001n;\n  ip.ttl--;\n  ip.tos += 4;\n  i.checksum = csumReplace(i.checksum, i.type << 8, 0);\n  i.type = 0;\n  const m: Infer<typeof Mac> = { addr: new Uint8Array(6), pad: new Uint8Array(2) };\n  m.addr = eth.src;\n  if (csumFold(csumDiff(null, m, 0)) === 1) return XdpAction.Drop;",
    ),
    { raw: true },
  );
  assert.ok(out.elf.length > 0);
});
