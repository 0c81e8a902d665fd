// TC ingress filter: drops (TC_ACT_SHOT) UDP datagrams whose destination port is in a hash
// set, over IPv4 or IPv6.
import { program, map, tc, HashMap, TcAction, type TcContext } from "tsbpf/probe";
import { u32, u8 } from "tsbpf/types";

program({ license: "GPL" });

const blocked_ports = map("blocked_ports", new HashMap(u32, u8, { maxEntries: 256 }));

export const tc_port_filter = tc((ctx: TcContext) => {
  const t = ctx.packet().transport();
  if (t !== null && t.protocol === "udp" && blocked_ports.get(t.dest()) !== null)
    return TcAction.Shot;
  return TcAction.Ok;
});
