// XDP probe: reports every HTTP request (GET/HEAD/PUT/POST/DELETE/PATCH/OPTIONS) seen on TCP over IPv4 or
// IPv6, with the packet's bytes, through the `requests` perf map.
// Build with `tsbpf build examples/trace_http/probe.ts`.
import { program, map, xdp, PerfMap, MapData, XdpAction, type XdpContext } from "tsbpf/probe";
import { RequestInfo } from "./shared.js";

program({ version: 0xfffffffe, license: "GPL" });

const requests = map("requests", new PerfMap(RequestInfo, { maxEntries: 1024 }));

export const trace_http = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  const transport = ctx.transport();
  const data = ctx.data();
  if (!ip || !transport || transport.protocol !== "tcp" || !data) return XdpAction.Pass;

  const head = data.read(6);
  if (!head) return XdpAction.Pass;
  if (
    !head.startsWith("GET ") &&
    !head.startsWith("HEAD") &&
    !head.startsWith("PUT ") &&
    !head.startsWith("POST") &&
    !head.startsWith("DELETE") &&
    !head.startsWith("PATCH ") &&
    !head.startsWith("OPTION") // OPTIONS: six bytes are enough to tell
  )
    return XdpAction.Pass;

  const info: RequestInfo = {
    saddr: 0,
    daddr: 0,
    sport: transport.source(),
    dport: transport.dest(),
  };
  if (ip.version === 4) {
    info.saddr = ip.saddr;
    info.daddr = ip.daddr;
  }
  // The whole frame follows the event; the request starts at data.offset() within it.
  requests.insert(ctx, MapData.withPayload(info, data.offset(), ctx.len()));
  return XdpAction.Pass;
});
