// xdp-tutorial packet03-redirecting, assignment 1 (packet-solutions/xdp_prog_kern_03.c,
// xdp_icmp_echo_func): turns an ICMP or ICMPv6 echo request into the reply — addresses and
// MACs swapped, the type changed, the checksum patched with bpf_csum_diff over the first
// word as the original does — and sends it back out (XDP_TX); verdicts counted per action.
import {
  program,
  map,
  xdp,
  PerCpuArrayMap,
  XdpAction,
  csumDiff,
  csumFold,
  type XdpContext,
} from "tsbpf/probe";
import { array, struct, u16, u64, u8, type Infer } from "tsbpf/types";

program({ license: "GPL" });

const DataRec = struct("datarec", { rx_packets: u64, rx_bytes: u64 });
const xdp_stats_map = map("xdp_stats_map", new PerCpuArrayMap(DataRec, { maxEntries: 5 }));
/** the protocol-independent first word of ICMP / ICMPv6 (icmphdr_common) */
export const IcmpWord = struct("IcmpWord", { type: u8, code: u8, cksum: u16 });
type IcmpWord = Infer<typeof IcmpWord>;
export const Addr6 = struct("Addr6", { a: array(u8, 16) });
type Addr6 = Infer<typeof Addr6>;

function record(ctx: XdpContext, action: XdpAction): XdpAction {
  const rec = xdp_stats_map.get(action);
  if (rec === null) return XdpAction.Aborted;
  rec.rx_packets += 1n;
  rec.rx_bytes += BigInt(ctx.len());
  return action;
}

export const xdp_icmp_echo_func = xdp((ctx) => {
  const eth = ctx.eth();
  const ip = ctx.ip();
  const icmp = ctx.icmp();
  if (eth === null || ip === null || icmp === null) return record(ctx, XdpAction.Pass);
  let reply = 0; // ICMP echo reply
  if (ip.version === 4 && icmp.type === 8) {
    const s = ip.saddr;
    ip.saddr = ip.daddr;
    ip.daddr = s;
  } else if (ip.version === 6 && icmp.type === 128) {
    const tmp: Addr6 = { a: new Uint8Array(16) };
    tmp.a = ip.saddr;
    ip.saddr = ip.daddr;
    ip.daddr = tmp.a;
    reply = 129;
  } else return record(ctx, XdpAction.Pass);
  eth.swapMacs();
  const old = icmp.checksum;
  const before: IcmpWord = { type: icmp.type, code: icmp.code, cksum: 0 };
  const after: IcmpWord = { type: reply, code: icmp.code, cksum: 0 };
  icmp.type = reply;
  // the original seeds bpf_csum_diff with the complemented old checksum as it lies in memory
  const raw = ((old & 0xff) << 8) | (old >> 8);
  const folded = csumFold(csumDiff(before, after, ~raw & 0xffff));
  icmp.checksum = folded;
  return record(ctx, XdpAction.Tx);
});
