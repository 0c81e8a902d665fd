// The HTTP request tracer (examples/trace_http): TCP payloads that start with an HTTP method
// are reported through a perf map with the frame's bytes.
import { program, map, xdp, PerfMap, MapData, XdpAction, type XdpContext } from "tsbpf/probe";
import { struct, be32, u16, type Infer } from "tsbpf/types";

program({ license: "GPL" });

const RequestInfo = struct("RequestInfo", { saddr: be32, daddr: be32, sport: u16, dport: u16 });
type RequestInfo = Infer<typeof RequestInfo>;

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
    !head.startsWith("DELETE")
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
  requests.insert(ctx, MapData.withPayload(info, data.offset(), ctx.len()));
  return XdpAction.Pass;
});
