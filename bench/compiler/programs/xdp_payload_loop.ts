// Bounded loop over packet bytes (the loop form of xdp_payload_hash): FNV-1a over the first 16 payload bytes; packets whose hash
// is in the `signatures` map are dropped.
import { program, map, xdp, HashMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { u32, u8 } from "tsbpf/types";

program({ license: "GPL" });

const PREFIX = 16;
const signatures = map("signatures", new HashMap(u32, u8, { maxEntries: 256 }));

export const xdp_payload_loop = xdp((ctx: XdpContext) => {
  const data = ctx.data();
  if (data === null) return XdpAction.Pass;
  const head = data.read(PREFIX);
  if (head === null) return XdpAction.Pass;
  let h = 0x811c9dc5;
  for (let i = 0; i < PREFIX; i++) {
    h = ((h ^ head.at(i)) * 0x01000193) >>> 0;
  }
  return signatures.get(h) === null ? XdpAction.Pass : XdpAction.Drop;
});
