// IPv6 filter: drops packets whose hop limit is exhausted and packets from blocked /64
// source prefixes (a hash set keyed by the upper 64 bits of the address).
import { program, map, xdp, HashMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { u64, u8 } from "tsbpf/types";

program({ license: "GPL" });

const blocked64 = map("blocked64", new HashMap(u64, u8, { maxEntries: 1024 }));

export const xdp_ipv6_filter = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  if (ip === null || ip.version !== 6) return XdpAction.Pass;
  if (ip.hopLimit <= 1) return XdpAction.Drop;
  if (blocked64.get(ip.saddr.hi) !== null) return XdpAction.Drop;
  return XdpAction.Pass;
});
