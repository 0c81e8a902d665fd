// A Katran-style XDP load balancer: the core IPv4 path of facebookincubator/katran's
// balancer.bpf.c, beside the C reduction katran_lb.bpf.c (which says what is kept and what is
// left out). VIP lookup by (address, port, protocol) then by port 0; jhash_2words of the
// source address and ports picks a real from the VIP's slice of the consistent-hash ring;
// per-VIP, per-real and global counters; IPIP encapsulation in front of the frame
// (bpf_xdp_adjust_head) with the outer source 172.16.x.y derived from the client, XDP_TX.
import {
  program,
  map,
  xdp,
  ArrayMap,
  HashMap,
  PerCpuArrayMap,
  XdpAction,
  helper,
  type XdpContext,
} from "tsbpf/probe";
import { array, be16, be32, struct, u8, u16, u32, u64, type Infer } from "tsbpf/types";

program({ license: "GPL" });

const MAX_VIPS = 32;
const RING_SIZE = 257;
const MAX_REALS = 256;
const CH_RINGS_SIZE = MAX_VIPS * RING_SIZE;
const INIT_JHASH_SEED = CH_RINGS_SIZE;
const MAX_PCKT_SIZE = 1514;
const IPIP_V4_PREFIX = 0xac100000; // 172.16.0.0, the original's 4268 read in network order

const LRU_CNTRS = 0;
const LRU_MISS_CNTR = 1;
const ENCAP_FAIL_CNTR = 7;
const CH_DROP_STATS = 9;
const XDP_TOTAL_CNTR = 16;
const XDP_TX_CNTR = 17;
const XDP_DROP_CNTR = 18;
const XDP_PASS_CNTR = 19;

const F_HASH_NO_SRC_PORT = 1 << 0;
const F_HASH_DPORT_ONLY = 1 << 3;
const F_HASH_SRC_DST_PORT = 1 << 7;
const F_IPV6 = 1 << 0;

const VipDefinition = struct("vip_definition", {
  vip: be32,
  vip1: u32,
  vip2: u32,
  vip3: u32,
  port: be16,
  proto: u8,
  pad: u8,
});
const VipMeta = struct("vip_meta", { flags: u32, vip_num: u32 });
const RealDefinition = struct("real_definition", {
  dst: be32,
  dst1: u32,
  dst2: u32,
  dst3: u32,
  flags: u8,
  pad1: u8,
  pad2: u16,
});
const CtlValue = struct("ctl_value", { mac: array(u8, 6), pad: u16 });
const LbStats = struct("lb_stats", { v1: u64, v2: u64 });
/** the outer IPv4 header written in front of the frame */
export const Ipv4 = struct("Ipv4", {
  verIhl: u8,
  tos: u8,
  totLen: be16,
  id: be16,
  frag: be16,
  ttl: u8,
  protocol: u8,
  check: be16,
  saddr: be32,
  daddr: be32,
});
type Ipv4 = Infer<typeof Ipv4>;
export const Mac = struct("Mac", { a: array(u8, 6), pad: u16 });
type Mac = Infer<typeof Mac>;
export const Word = struct("Word", { w: be16 });
type Word = Infer<typeof Word>;

const vip_map = map("vip_map", new HashMap(VipDefinition, VipMeta, { maxEntries: MAX_VIPS }));
const ch_rings = map("ch_rings", new ArrayMap(u32, { maxEntries: CH_RINGS_SIZE }));
const reals = map("reals", new ArrayMap(RealDefinition, { maxEntries: MAX_REALS }));
const reals_stats = map("reals_stats", new PerCpuArrayMap(LbStats, { maxEntries: MAX_REALS }));
const stats = map("stats", new PerCpuArrayMap(LbStats, { maxEntries: MAX_VIPS * 2 }));
const ctl_array = map("ctl_array", new ArrayMap(CtlValue, { maxEntries: 16 }));

const BPF_FUNC_xdp_load_bytes = 189;
const BPF_FUNC_xdp_store_bytes = 190;

/** 32-bit rotate left */
function rol32(w: number, s: number): number {
  return ((w << s) | (w >>> (32 - s))) >>> 0;
}

/** jhash_2words (lookup3's final mix) over 32-bit words as the C loads them */
function jhash2(a0: number, b0: number, initval: number): number {
  const iv = (initval + 0xdeadbeef + 8) >>> 0;
  let a = (a0 + iv) >>> 0;
  let b = (b0 + iv) >>> 0;
  let c = iv;
  c = ((c ^ b) - rol32(b, 14)) >>> 0;
  a = ((a ^ c) - rol32(c, 11)) >>> 0;
  b = ((b ^ a) - rol32(a, 25)) >>> 0;
  c = ((c ^ b) - rol32(b, 16)) >>> 0;
  a = ((a ^ c) - rol32(c, 4)) >>> 0;
  b = ((b ^ a) - rol32(a, 14)) >>> 0;
  c = ((c ^ b) - rol32(b, 24)) >>> 0;
  return c;
}

const swap16 = (x: number): number => ((x & 0xff) << 8) | ((x >> 8) & 0xff);
const swap32 = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >> 8) & 0xff00) | ((x >> 24) & 0xff)) >>> 0;

function count(key: number, v1: number, v2: number): void {
  const s = stats.get(key);
  if (s === null) return;
  s.v1 += BigInt(v1);
  s.v2 += BigInt(v2);
}

function processPacket(ctx: XdpContext): XdpAction {
  const ip = ctx.ip();
  if (ip === null || ip.version !== 4) return XdpAction.Drop;
  if (ip.headerLength !== 20) return XdpAction.Drop;
  // the IPv4 view has no fragment field: load flags and offset with bpf_xdp_load_bytes
  const frag: Word = { w: 0 };
  helper(BPF_FUNC_xdp_load_bytes, ctx, 14 + 6, frag, 2);
  if ((frag.w & 0x3fff) !== 0) return XdpAction.Drop;
  const proto = ip.protocol;
  if (proto === 1) return XdpAction.Pass;
  if (proto !== 6 && proto !== 17) return XdpAction.Pass;
  const t = ctx.transport();
  if (t === null) return XdpAction.Drop;
  const syn = t.protocol === "tcp" && (t.flags & 0x02) !== 0;
  const pktBytes = ip.totalLength;
  let srcHost = ip.saddr;
  let sport = t.source();
  let dport = t.dest();

  let vip = vip_map.get({
    vip: ip.daddr,
    vip1: 0,
    vip2: 0,
    vip3: 0,
    port: dport,
    proto,
    pad: 0,
  });
  if (vip === null) {
    vip = vip_map.get({ vip: ip.daddr, vip1: 0, vip2: 0, vip3: 0, port: 0, proto, pad: 0 });
    if (vip === null) return XdpAction.Pass;
    if ((vip.flags & (F_HASH_DPORT_ONLY | F_HASH_SRC_DST_PORT)) === 0) dport = 0;
  }
  if (ctx.len() > MAX_PCKT_SIZE) return XdpAction.Drop;
  const lru = stats.get(MAX_VIPS + LRU_CNTRS);
  if (lru === null) return XdpAction.Drop;
  lru.v1 += 1n;
  if ((vip.flags & F_HASH_NO_SRC_PORT) !== 0) sport = 0;
  const vipNum = vip.vip_num;
  const originalSport = sport;
  if (proto === 6) {
    if (syn) count(MAX_VIPS + LRU_MISS_CNTR, 1, 0);
    else count(MAX_VIPS + LRU_MISS_CNTR, 0, 1);
  }
  // get_packet_dst: the consistent-hash ring
  // (the source address stays cleared for the encapsulation below, as in the original)
  if ((vip.flags & F_HASH_DPORT_ONLY) !== 0) {
    sport = dport;
    srcHost = 0;
  }
  const ports = (swap16(sport) | (swap16(dport) << 16)) >>> 0;
  const hash = jhash2(swap32(srcHost), ports, INIT_JHASH_SEED) % RING_SIZE;
  const realPos = ch_rings.get(RING_SIZE * vipNum + hash);
  if (realPos === null) return XdpAction.Drop;
  if (realPos === 0) {
    count(MAX_VIPS + CH_DROP_STATS, 0, 1);
    return XdpAction.Drop;
  }
  const dst = reals.get(realPos);
  if (dst === null) {
    count(MAX_VIPS + CH_DROP_STATS, 1, 0);
    return XdpAction.Drop;
  }
  lru.v2 += 1n;
  const cval = ctl_array.get(0);
  if (cval === null) return XdpAction.Drop;
  const vs = stats.get(vipNum);
  if (vs === null) return XdpAction.Drop;
  vs.v1 += 1n;
  vs.v2 += BigInt(pktBytes);
  const rs = reals_stats.get(realPos);
  if (rs === null) return XdpAction.Drop;
  rs.v1 += 1n;
  rs.v2 += BigInt(pktBytes);
  if ((dst.flags & F_IPV6) !== 0) return XdpAction.Drop;

  // encap_v4: the outer header, its checksum over host-order words
  const saddr = (IPIP_V4_PREFIX | ((swap16(originalSport) ^ srcHost) & 0xffff)) >>> 0;
  const daddr = dst.dst;
  const totLen = (pktBytes + 20) & 0xffff;
  let sum = 0x4500 + totLen + 0x4004 + (saddr >>> 16) + (saddr & 0xffff);
  sum += (daddr >>> 16) + (daddr & 0xffff);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  const hdr: Ipv4 = {
    verIhl: 0x45,
    tos: 0,
    totLen,
    id: 0,
    frag: 0,
    ttl: 64,
    protocol: 4,
    check: ~sum & 0xffff,
    saddr,
    daddr,
  };
  const eth = ctx.eth();
  if (eth === null) return XdpAction.Drop;
  const old: Mac = { a: new Uint8Array(6), pad: 0 };
  old.a = eth.dst;
  if (ctx.adjustHead(-20) !== 0) {
    count(MAX_VIPS + ENCAP_FAIL_CNTR, 1, 0);
    return XdpAction.Drop;
  }
  const e2 = ctx.eth();
  if (e2 === null || ctx.len() < 34) {
    count(MAX_VIPS + ENCAP_FAIL_CNTR, 1, 0);
    return XdpAction.Drop;
  }
  e2.dst = cval.mac;
  e2.src = old.a;
  e2.protocol = 0x0800;
  // there is no view for a header that is not there yet: bpf_xdp_store_bytes writes it
  helper(BPF_FUNC_xdp_store_bytes, ctx, 14, hdr, 20);
  return XdpAction.Tx;
}

export const balancer_ingress = xdp((ctx) => {
  const eth = ctx.eth();
  if (eth === null) return XdpAction.Drop;
  const len = ctx.len();
  const total = stats.get(MAX_VIPS + XDP_TOTAL_CNTR);
  if (total === null) return XdpAction.Drop;
  total.v1 += 1n;
  total.v2 += BigInt(len);
  const action = eth.protocol === 0x0800 ? processPacket(ctx) : XdpAction.Pass;
  let key = MAX_VIPS + XDP_TOTAL_CNTR;
  if (action === XdpAction.Pass) key = MAX_VIPS + XDP_PASS_CNTR;
  else if (action === XdpAction.Drop) key = MAX_VIPS + XDP_DROP_CNTR;
  else if (action === XdpAction.Tx) key = MAX_VIPS + XDP_TX_CNTR;
  const s = stats.get(key);
  if (s === null) return XdpAction.Drop;
  s.v1 += 1n;
  s.v2 += BigInt(len);
  return action;
});
