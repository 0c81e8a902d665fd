// Who is at the other end of a connected Unix socket: SO_PEERCRED, the credentials the kernel
// recorded when the peer called connect() or listen(), which it cannot forge (unlike anything
// it sends). The build server (src/accel/server.ts) serves only its own user with it, and its
// Node client (src/accel/server-control.ts) talks only to a server of its own user.
import { check } from "./errors.js";
import { native } from "./native.js";
import { bug } from "../bug.js";

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** The peer's credentials of a connected Unix socket fd; throws SysError. */
export function peerCredentials(fd: number): PeerCredentials {
  const buf = new Uint8Array(12); // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
  const len = check(
    "getsockopt(SO_PEERCRED)",
    native().getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buf),
  );
  if (len !== 12) throw bug(`getsockopt(SO_PEERCRED) returned ${len} bytes, not 12`);
  const v = new DataView(buf.buffer);
  return { pid: v.getInt32(0, true), uid: v.getUint32(4, true), gid: v.getUint32(8, true) };
}

/** The fd under a connected net.Socket over a Unix socket (Node keeps it in its handle). */
export function socketFd(socket: object): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) throw bug("the socket has no file descriptor");
  return fd;
}
