// Netlink sockets (for XDP/TC attachment on kernels without bpf_link for them) and interface
// names. Netlink requests answer at once, so a blocking recv does not stall the loop.
import { check, SysError } from "./errors.js";
import { FD } from "./fd.js";
import { native } from "./native.js";

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const NETLINK_ROUTE = 0;
export const SOL_NETLINK = 270;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;

/** A netlink socket bound to a kernel-assigned port, with extended acks turned on. */
export function openNetlink(protocol: number = NETLINK_ROUTE): FD {
  const fd = new FD(check("socket(AF_NETLINK)", native().socket(AF_NETLINK, SOCK_RAW, protocol)));
  try {
    const one = new Uint8Array(new Uint32Array([1]).buffer);
    // Extended acks give the kernel's error text; not fatal on kernels without it.
    native().setsockopt(fd.fd, SOL_NETLINK, NETLINK_EXT_ACK, one);
    const sa = new Uint8Array(12); // struct sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups }
    new DataView(sa.buffer).setUint16(0, AF_NETLINK, true);
    check("bind(AF_NETLINK)", native().bind(fd.fd, sa));
    return fd;
  } catch (e) {
    fd.close();
    throw e;
  }
}

export function sockSend(fd: number, buf: Uint8Array, flags = 0): number {
  return check("send", native().send(fd, buf, flags));
}

/** Bytes received into `buf`. */
export function sockRecv(fd: number, buf: Uint8Array, flags = 0): number {
  return check("recv", native().recv(fd, buf, flags));
}

/** The index of a network interface; a SysError naming it when there is none. */
export function ifNameToIndex(name: string): number {
  const r = native().ifNameToIndex(name);
  if (r <= 0)
    throw new SysError("if_nametoindex", r < 0 ? -r : 19, {
      subject: `interface "${name}"`,
      hint: "no such network interface in this network namespace (see `ip link`)",
    });
  return r;
}
