// libbpf-bootstrap examples/c/sockfilter.bpf.c (socket_handler): for every unfragmented IPv4
// packet, a ring buffer record with its addresses, protocol, the first 4 bytes after the IP
// header (the ports), the packet type and the interface; the packet is kept whole.
import { program, map, socketFilter, RingBuf } from "tsbpf/probe";
import { be32, struct, u32 } from "tsbpf/types";

program({ license: "Dual BSD/GPL" });

const SoEvent = struct("so_event", {
  src_addr: be32,
  dst_addr: be32,
  ports: be32,
  ip_proto: u32,
  pkt_type: u32,
  ifindex: u32,
});
const rb = map("rb", new RingBuf(SoEvent, { maxEntries: 256 * 1024 }));

const ETH_HLEN = 14;
const IPPROTO_GRE = 47;

export const socket_handler = socketFilter((ctx) => {
  if (ctx.loadBytes(12, 2) !== 0x0800) return 0;
  // IP_MF | IP_OFFSET
  if ((ctx.loadBytes(ETH_HLEN + 6, 2) & 0x3fff) !== 0) return 0;
  const e = rb.reserve();
  if (e === null) return 0;
  // As in the original, a failed load is not tested for: its -1 lands in the field (the C
  // leaves the field's old bytes); the packets this runs on hold every byte it reads.
  e.ip_proto = ctx.loadBytes(ETH_HLEN + 9, 1);
  if (e.ip_proto !== IPPROTO_GRE) {
    e.src_addr = ctx.loadBytes(ETH_HLEN + 12, 4);
    e.dst_addr = ctx.loadBytes(ETH_HLEN + 16, 4);
  }
  const verlen = ctx.loadBytes(ETH_HLEN, 1);
  e.ports = ctx.loadBytes(ETH_HLEN + ((verlen & 0xf) << 2), 4);
  e.pkt_type = ctx.pktType;
  e.ifindex = ctx.ifindex;
  rb.submit(e);
  return ctx.len;
});
