// Payload signatures: FNV-1a over the first 16 payload bytes (unrolled: byte indexes are
// constants); packets whose hash is in the `signatures` set are dropped.
import { program, map, xdp, HashMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { u32, u8 } from "tsbpf/types";

program({ license: "GPL" });

const signatures = map("signatures", new HashMap(u32, u8, { maxEntries: 256 }));

function fnv(h: number, byte: number): number {
  return ((h ^ byte) * 0x01000193) >>> 0;
}

export const xdp_payload_hash = xdp((ctx: XdpContext) => {
  const data = ctx.data();
  if (data === null) return XdpAction.Pass;
  const b = data.read(16);
  if (b === null) return XdpAction.Pass;
  let h = 0x811c9dc5;
  h = fnv(h, b.at(0));
  h = fnv(h, b.at(1));
  h = fnv(h, b.at(2));
  h = fnv(h, b.at(3));
  h = fnv(h, b.at(4));
  h = fnv(h, b.at(5));
  h = fnv(h, b.at(6));
  h = fnv(h, b.at(7));
  h = fnv(h, b.at(8));
  h = fnv(h, b.at(9));
  h = fnv(h, b.at(10));
  h = fnv(h, b.at(11));
  h = fnv(h, b.at(12));
  h = fnv(h, b.at(13));
  h = fnv(h, b.at(14));
  h = fnv(h, b.at(15));
  return signatures.get(h) === null ? XdpAction.Pass : XdpAction.Drop;
});
