// libbpf-bootstrap examples/c/tc.bpf.c (tc_ingress): for IPv4 packets, prints the total length
// and TTL to the trace pipe; every packet goes on (TC_ACT_OK).
import { program, tc, TcAction, tracePrintk } from "tsbpf/probe";

program({ license: "GPL" });

export const tc_ingress = tc((ctx) => {
  if (ctx.protocol !== 0x0800) return TcAction.Ok;
  const ip = ctx.packet().ip();
  if (ip === null || ip.version !== 4) return TcAction.Ok;
  tracePrintk("Got IP packet: tot_len: %d, ttl: %d", ip.totalLength, ip.ttl);
  return TcAction.Ok;
});
