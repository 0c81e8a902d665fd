// Drops UDP datagrams (IPv4 or IPv6) sent to a port fixed at build time.
import { program, xdp, XdpAction, type XdpContext } from "tsbpf/probe";

program({ license: "GPL" });

const DROP_PORT = 9999;

export const xdp_drop_udp = xdp((ctx: XdpContext) => {
  const t = ctx.transport();
  if (t !== null && t.protocol === "udp" && t.dest() === DROP_PORT) return XdpAction.Drop;
  return XdpAction.Pass;
});
