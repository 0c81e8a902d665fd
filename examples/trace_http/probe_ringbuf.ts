// XDP probe: the HTTP tracer of probe.ts, sending through a BPF ring buffer (kernels ≥ 5.8)
// instead of a perf event array. One ring shared by all CPUs keeps requests in order and
// wastes less memory; a full ring drops the record, which the probe counts in `dropped`
// (the loader prints it on exit).
// Build with `tsbpf build examples/trace_http/probe_ringbuf.ts`.
import {
  program,
  map,
  global,
  atomicAdd,
  xdp,
  RingBuf,
  MapData,
  XdpAction,
  type XdpContext,
} from "tsbpf/probe";
import { u64 } from "tsbpf/types";
import { RequestInfo } from "./shared.js";

program({ version: 0xfffffffe, license: "GPL" });

/** 256 KiB: about 480 records of 532 bytes (MapData header + up to 512 frame bytes). */
const requests = map("requests", new RingBuf(RequestInfo, { maxEntries: 256 * 1024 }));

/** Requests that did not fit in the ring (the loader prints this count when it exits). */
const dropped = global("dropped", u64);

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
  // The record: MapData<RequestInfo>, then the frame (up to the ring's capture size).
  if (requests.output(MapData.withPayload(info, data.offset(), ctx.len())) !== 0)
    atomicAdd(dropped, "value", 1);
  return XdpAction.Pass;
});
