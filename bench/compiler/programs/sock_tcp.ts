// Socket filter: keeps TCP packets (IPv4 or IPv6) whole, drops everything else.
import { program, socketFilter } from "tsbpf/probe";

program({ license: "GPL" });

const ETH_P_IP_NET = 0x0008; // skb->protocol holds the EtherType in network order
const ETH_P_IPV6_NET = 0xdd86;
const IPPROTO_TCP = 6;

export const sock_tcp = socketFilter((ctx) => {
  let proto = -1;
  if (ctx.protocol === ETH_P_IP_NET) proto = ctx.loadBytes(9, 1);
  else if (ctx.protocol === ETH_P_IPV6_NET) proto = ctx.loadBytes(6, 1);
  return proto === IPPROTO_TCP ? ctx.len : 0;
});
