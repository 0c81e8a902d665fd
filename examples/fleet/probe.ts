// The fleet example's probe: per-node traffic counters and a frame-size histogram in maps,
// for `tsbpf agent` to export (docs/fleet.md). XDP on the node's interface; IPv4 only.
import {
  program,
  map,
  xdp,
  HashMap,
  RingBuf,
  XdpAction,
  atomicAdd,
  type XdpContext,
} from "tsbpf/probe";
import { FlowKey, Traffic, SizeKey, Count, Seen, SIZE_MAX_BUCKET, SIZE_SUM } from "./shared.js";

program({ license: "GPL" });

const traffic = map("traffic", new HashMap(FlowKey, Traffic, { maxEntries: 4096 }));
const sizes = map("sizes", new HashMap(SizeKey, Count, { maxEntries: 256 }));
const seen = map("seen", new RingBuf(Seen, { maxEntries: 64 * 1024 }));

/** Adds n to sizes[proto, bucket], creating the entry on first use. */
function addSize(proto: number, bucket: number, n: number): void {
  const key = { proto, pad: [0, 0, 0], bucket };
  let c = sizes.get(key);
  if (c === null) {
    sizes.set(key, { n: 0n }, 1); // BPF_NOEXIST: another CPU may have created it meanwhile
    c = sizes.get(key);
    if (c === null) return;
  }
  atomicAdd(c, "n", n);
}

export const fleet = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  if (!ip || ip.version !== 4) return XdpAction.Pass;
  const len = ctx.len();
  const key = { saddr: ip.saddr, proto: ip.protocol, pad: [0, 0, 0] };
  let t = traffic.get(key);
  if (t === null) {
    traffic.set(key, { packets: 0n, bytes: 0n }, 1);
    t = traffic.get(key);
    if (t === null) return XdpAction.Pass;
  }
  atomicAdd(t, "packets", 1);
  atomicAdd(t, "bytes", len);

  // floor(log2(len)), capped at SIZE_MAX_BUCKET
  let bucket = 0;
  for (let i = 1; i <= SIZE_MAX_BUCKET; i++) if (len >= 1 << i) bucket = i;
  addSize(ip.protocol, bucket, 1);
  addSize(ip.protocol, SIZE_SUM, len);

  if (ip.protocol === 17) seen.output({ saddr: ip.saddr, len });
  return XdpAction.Pass;
});
