// xdp-tutorial packet02-rewriting, assignment 1 (packet-solutions/xdp_prog_kern_02.c,
// xdp_patch_ports_func): decrements the TCP or UDP destination port by one and patches the
// checksum the way the original does, then counts the verdict per action.
import { program, map, xdp, PerCpuArrayMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { struct, u64 } from "tsbpf/types";

program({ license: "GPL" });

const DataRec = struct("datarec", { rx_packets: u64, rx_bytes: u64 });
const xdp_stats_map = map("xdp_stats_map", new PerCpuArrayMap(DataRec, { maxEntries: 5 }));

function record(ctx: XdpContext, action: XdpAction): XdpAction {
  const rec = xdp_stats_map.get(action);
  if (rec === null) return XdpAction.Aborted;
  rec.rx_packets += 1n;
  rec.rx_bytes += BigInt(ctx.len());
  return action;
}

/**
 * The original adds htons(1) to the checksum as a little-endian u16, which is +1 on the low
 * byte of the big-endian value without a carry into the high byte; a zero result becomes 1.
 */
function bump(check: number): number {
  const c = (check & 0xff00) | ((check + 1) & 0xff);
  return c === 0 ? 1 : c;
}

export const xdp_patch_ports_func = xdp((ctx) => {
  if (ctx.eth() === null) return record(ctx, XdpAction.Aborted);
  const ip = ctx.ip();
  if (ip === null) return record(ctx, XdpAction.Pass);
  // parse_iphdr refuses a header length below 20 (the view does not: it leaves that to
  // transport())
  if (ip.version === 4 && ip.headerLength < 20) return record(ctx, XdpAction.Pass);
  const proto = ip.version === 4 ? ip.protocol : ip.protocol;
  if (proto !== 6 && proto !== 17) return record(ctx, XdpAction.Pass);
  const t = ctx.transport();
  // a short header, a TCP data offset below 5 or a UDP length below 8: XDP_ABORTED
  if (t === null) return record(ctx, XdpAction.Aborted);
  if (t.protocol === "udp") {
    if (t.length < 8) return record(ctx, XdpAction.Aborted);
    t.setDest((t.dest() - 1) & 0xffff);
    t.checksum = bump(t.checksum);
  } else {
    // parse_tcphdr wants a data offset of at least 5 words, inside the packet; the TCP view
    // has no data offset, but the payload view checks exactly that
    if (ctx.data() === null) return record(ctx, XdpAction.Aborted);
    t.setDest((t.dest() - 1) & 0xffff);
    t.checksum = bump(t.checksum);
  }
  return record(ctx, XdpAction.Pass);
});
