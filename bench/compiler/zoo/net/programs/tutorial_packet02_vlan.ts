// xdp-tutorial packet02-rewriting, assignments 2 and 3 (packet-solutions/xdp_prog_kern_02.c,
// xdp_vlan_swap_func with common/rewrite_helpers.h): pops the outer VLAN tag of a tagged
// frame, pushes a tag with VLAN id 1 onto an untagged one; every frame passes.
import { program, xdp, XdpAction, helper } from "tsbpf/probe";
import { array, be16, struct, u8, type Infer } from "tsbpf/types";

program({ license: "GPL" });

export const Macs = struct("Macs", { dst: array(u8, 6), src: array(u8, 6) });
type Macs = Infer<typeof Macs>;
export const Tci = struct("Tci", { tci: be16 });
type Tci = Infer<typeof Tci>;

const BPF_FUNC_xdp_store_bytes = 190;

export const xdp_vlan_swap_func = xdp((ctx) => {
  const eth = ctx.eth();
  if (eth === null) return XdpAction.Pass;
  const m: Macs = { dst: new Uint8Array(6), src: new Uint8Array(6) };
  m.dst = eth.dst;
  m.src = eth.src;
  if (eth.protocol === 0x8100 || eth.protocol === 0x88a8) {
    // pop: the tag must be in the packet; the EtherType behind it slides into place
    const tag = ctx.vlan();
    if (tag === null) return XdpAction.Pass;
    const inner = tag.protocol;
    if (ctx.adjustHead(4) !== 0) return XdpAction.Pass;
    const e2 = ctx.eth();
    if (e2 === null) return XdpAction.Pass;
    e2.dst = m.dst;
    e2.src = m.src;
    e2.protocol = inner;
    return XdpAction.Pass;
  }
  // push: 4 bytes in front, the MAC addresses moved back, TPID 0x8100 and TCI 1; the original
  // EtherType is already where the tag's encapsulated protocol goes
  const outer = eth.protocol;
  if (ctx.adjustHead(-4) !== 0) return XdpAction.Pass;
  const e2 = ctx.eth();
  if (e2 === null) return XdpAction.Pass;
  e2.dst = m.dst;
  e2.src = m.src;
  e2.protocol = 0x8100;
  // a VLAN view is read-only: the TCI (and the encapsulated protocol) go in with
  // bpf_xdp_store_bytes from a struct local
  const t: Tci = { tci: 1 };
  helper(BPF_FUNC_xdp_store_bytes, ctx, 14, t, 2);
  const p: Tci = { tci: outer };
  helper(BPF_FUNC_xdp_store_bytes, ctx, 16, p, 2);
  return XdpAction.Pass;
});
