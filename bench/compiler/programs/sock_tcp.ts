// Socket filter: keeps TCP packets (IPv4 or IPv6) whole, drops everything else.
import { program, socketFilter } from "tsbpf/probe";

program({ license: "GPL" });

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;

export const sock_tcp = socketFilter((ctx) => {
  let proto = -1;
  if (ctx.protocol === ETH_P_IP) proto = ctx.loadBytes(9, 1);
  else if (ctx.protocol === ETH_P_IPV6) proto = ctx.loadBytes(6, 1);
  return proto === IPPROTO_TCP ? ctx.len : 0;
});
