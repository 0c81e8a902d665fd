// Bounded loop: drops IPv4 packets whose destination falls in a blocked /32, /24, /16 or /8
// network, probing a hash set of network addresses from the longest prefix down.
import { program, map, xdp, HashMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { u32, u8 } from "tsbpf/types";

program({ license: "GPL" });

/** key: network address (host order, host bits zero) of a blocked /32, /24, /16 or /8 */
const blocked = map("blocked", new HashMap(u32, u8, { maxEntries: 1024 }));

export const xdp_prefix_block = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  if (ip === null || ip.version !== 4) return XdpAction.Pass;
  const daddr = ip.daddr;
  let mask = 0xffffffff;
  for (let i = 0; i < 4; i++) {
    if (blocked.get(daddr & mask) !== null) return XdpAction.Drop;
    mask = (mask << 8) >>> 0;
  }
  return XdpAction.Pass;
});
