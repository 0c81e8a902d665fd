// The probes the `tsbpf build` snapshot compiles before it is taken (snapshot-entry.ts): the
// functions a build runs get their bytecode into the snapshot, and every later build starts
// where a second build in one process would. Together they reach the common paths: the
// `tsbpf new` template (XDP, perf output, a struct from another file), packet payloads, maps,
// ring buffer,
// tracepoint fields, helpers, local functions, a bounded loop, and a type error (the
// diagnostic path). test/unit/accel/snapshot.test.ts checks that they compile as intended.
import { projectFiles } from "../cli/templates/project.js";

/** In-memory directory of the warm-up probes (never read from disk). */
export const WARMUP_ROOT = "/__tsbpf__/warmup";

export interface WarmupProbe {
  /** path under WARMUP_ROOT */
  entry: string;
  sources: ReadonlyMap<string, string>;
  /** false for the probe that exercises type-error reporting */
  compiles: boolean;
}

const EVENTS = `import {
  program, map, tracepoint, xdp, HashMap, RingBuf, ArrayMap, XdpAction, atomicAdd, pidTgid,
  ktimeGetNs, toNumber, type XdpContext,
} from "tsbpf/probe";
import { struct, array, i32, u8, u16, u32, u64 } from "tsbpf/types";

program({ license: "GPL" });

const Args = struct("Args", { nr: i32, dfd: u64, filename: u64, flags: u64, mode: u64 });
const Event = struct("Event", { tgid: u32, port: u16, pad: u16, ts: u64, tag: array(u8, 8) });
const Counter = struct("Counter", { packets: u64, bytes: u64 });
const events = map("events", new RingBuf(Event, { maxEntries: 4096 }));
const ports = map("ports", new HashMap(u32, Counter, { maxEntries: 1024 }));
const limits = map("limits", new ArrayMap(u32, { maxEntries: 4 }));

function limit(slot: number): number {
  const v = limits.get(slot);
  return v === null ? 0 : v;
}

export const on_openat = tracepoint("syscalls", "sys_enter_openat", Args, (ctx) => {
  if (toNumber(ctx.fields.flags) === limit(0)) return 0;
  const ev = events.reserve();
  if (ev === null) return 0;
  ev.tgid = toNumber(pidTgid() >> 32n);
  ev.ts = ktimeGetNs();
  events.submit(ev);
  return 0;
});

export const count_ports = xdp((ctx: XdpContext) => {
  const t = ctx.transport();
  if (t === null || t.protocol !== "tcp") return XdpAction.Pass;
  let n = 0;
  for (let i = 0; i < 4; i++) if (t.dest() > limit(i)) n += 1;
  const c = ports.get(t.dest());
  if (c === null) {
    ports.set(t.dest(), { packets: 1n, bytes: 0n });
    return n > 2 ? XdpAction.Drop : XdpAction.Pass;
  }
  atomicAdd(c, "packets", 1);
  atomicAdd(c, "bytes", ctx.len());
  return XdpAction.Pass;
});
`;

const PAYLOAD = `import { program, map, xdp, tc, PerfMap, PerCpuArrayMap, LruHashMap, MapData, XdpAction, TcAction,
  type XdpContext } from "tsbpf/probe";
import { struct, be32, u16, u32, u64, type Infer } from "tsbpf/types";

program({ license: "GPL" });

const Info = struct("Info", { saddr: be32, daddr: be32, sport: u16, dport: u16 });
type Info = Infer<typeof Info>;
const Flow = struct("Flow", { saddr: u32, daddr: u32, sport: u16, dport: u16, proto: u32 });
type Flow = Infer<typeof Flow>;
const Bytes = struct("Bytes", { n: u64 });
const seen = map("seen", new PerfMap(Info, { maxEntries: 1024 }));
const flows = map("flows", new LruHashMap(Flow, Bytes, { maxEntries: 1024 }));
const totals = map("totals", new PerCpuArrayMap(Bytes, { maxEntries: 2 }));

export const requests = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  const transport = ctx.transport();
  const data = ctx.data();
  if (!ip || !transport || transport.protocol !== "tcp" || !data) return XdpAction.Pass;
  const head = data.read(4);
  if (!head || (!head.startsWith("GET ") && !head.startsWith("POST"))) return XdpAction.Pass;
  const info: Info = { saddr: 0, daddr: 0, sport: transport.source(), dport: transport.dest() };
  if (ip.version === 4) {
    info.saddr = ip.saddr;
    info.daddr = ip.daddr;
    const key: Flow = { saddr: ip.saddr, daddr: ip.daddr, sport: info.sport, dport: info.dport, proto: 6 };
    const f = flows.get(key);
    if (f === null) flows.set(key, { n: 1n });
    else f.n += 1n;
  }
  seen.insert(ctx, MapData.withPayload(info, data.offset(), ctx.len()));
  return XdpAction.Pass;
});

export const sizes = tc((ctx) => {
  const ip = ctx.packet().ip();
  const t = totals.get(ip !== null && ip.version === 6 ? 1 : 0);
  if (t !== null) t.n += 1n;
  return TcAction.Ok;
});
`;

const TYPE_ERROR = `import { program, xdp, XdpAction } from "tsbpf/probe";
program({ license: "GPL" });
export const bad = xdp((ctx) => {
  const n: number = ctx.ip();
  return n > 0 ? XdpAction.Pass : XdpAction.Drop;
});
`;

function probe(dir: string, files: Record<string, string>, compiles: boolean): WarmupProbe {
  const sources = new Map(
    Object.entries(files)
      .filter(([name]) => name.endsWith(".ts"))
      .map(([name, text]) => [`${WARMUP_ROOT}/${dir}/${name}`, text]),
  );
  return { entry: `${dir}/probe.ts`, sources, compiles };
}

export function warmupProbes(): WarmupProbe[] {
  const template = projectFiles({
    name: "warmup",
    ident: "warmup",
    tsbpf: "*",
    typescript: "*",
    typesNode: "*",
  });
  delete template["loader.ts"];
  return [
    probe("template", template, true),
    probe("events", { "probe.ts": EVENTS }, true),
    probe("payload", { "probe.ts": PAYLOAD }, true),
    probe("type-error", { "probe.ts": TYPE_ERROR }, false),
  ];
}
