// Netlink sockets (for XDP/TC attachment on kernels without bpf_link for them) and interface
// names. Netlink requests answer at once, so a blocking recv does not stall the loop.
import { check, SysError } from "./errors.js";
import { FD } from "./fd.js";
import { native } from "./native.js";

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0x80000;
export const NETLINK_ROUTE = 0;
export const SOL_NETLINK = 270;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;
export const SOL_SOCKET = 1;

/**
 * A close-on-exec netlink socket bound to a kernel-assigned port, with extended acks (the
 * kernel's reason, e.g. "Program bound to different device") capped to the header.
 */
export function openNetlink(protocol: number = NETLINK_ROUTE): FD {
  const fd = new FD(
    check("socket(AF_NETLINK)", native().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol)),
  );
  try {
    const one = new Uint8Array(new Uint32Array([1]).buffer);
    // Not fatal on kernels without them.
    native().setsockopt(fd.fd, SOL_NETLINK, NETLINK_EXT_ACK, one);
    native().setsockopt(fd.fd, SOL_NETLINK, NETLINK_CAP_ACK, one);
    const sa = new Uint8Array(12); // struct sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups }
    new DataView(sa.buffer).setUint16(0, AF_NETLINK, true);
    check("bind(AF_NETLINK)", native().bind(fd.fd, sa));
    return fd;
  } catch (e) {
    fd.close();
    throw e;
  }
}

export function sockSend(fd: number, buf: Uint8Array, flags = 0, syscall = "send"): number {
  return check(syscall, native().send(fd, buf, flags));
}

/** Bytes received into `buf`. */
export function sockRecv(fd: number, buf: Uint8Array, flags = 0, syscall = "recv"): number {
  return check(syscall, native().recv(fd, buf, flags));
}

/** setsockopt(2): 0 or -errno (the caller decides which errno means what for its socket). */
export function setSockOpt(fd: number, level: number, name: number, value: Uint8Array): number {
  return native().setsockopt(fd, level, name, value);
}

/** The index of a network interface in this network namespace, or undefined when there is none. */
export function interfaceIndex(name: string): number | undefined {
  const r = native().ifNameToIndex(name);
  return r > 0 ? r : undefined;
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
