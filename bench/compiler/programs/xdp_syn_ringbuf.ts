// Reports each TCP SYN (without ACK) over IPv4 through a ring buffer.
import { program, map, xdp, RingBuf, XdpAction, type XdpContext } from "tsbpf/probe";
import { struct, u8, u16, u32 } from "tsbpf/types";

program({ license: "GPL" });

const SYN = 0x02;
const ACK = 0x10;

const SynEvent = struct("SynEvent", {
  saddr: u32,
  daddr: u32,
  sport: u16,
  dport: u16,
  window: u16,
  ttl: u8,
  pad: u8,
});
const syns = map("syns", new RingBuf(SynEvent, { maxEntries: 1 << 18 }));

export const xdp_syn_ringbuf = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  const t = ctx.transport();
  if (ip === null || t === null || ip.version !== 4 || t.protocol !== "tcp") return XdpAction.Pass;
  if ((t.flags & (SYN | ACK)) !== SYN) return XdpAction.Pass;
  syns.output({
    saddr: ip.saddr,
    daddr: ip.daddr,
    sport: t.source(),
    dport: t.dest(),
    window: t.window,
    ttl: ip.ttl,
    pad: 0,
  });
  return XdpAction.Pass;
});
