// Socket filters (SOCKET_FILTER programs) on one socket: setsockopt(SO_ATTACH_BPF). The
// program sees every packet the socket would receive; its return value is how many bytes to
// keep (0 drops the packet).

import { ProgType, nameOf } from "../obj/consts.js";
import { Errno, SysError } from "../sys/errors.js";
import { SOL_SOCKET, setSockOpt } from "../sys/socket.js";
import { AttachError } from "./errors.js";
import { dupFd } from "./fds.js";
import { CallbackLink, progLabel, type AttachableProgram, type Link } from "./link.js";

const SO_ATTACH_BPF = 50;
const SO_DETACH_BPF = 27;
const ENOTSOCK = 88;

/**
 * Attach to the socket `socketFd` (any kind: raw, UDP, TCP, packet). The link keeps its own
 * reference to the socket so close() detaches from that very socket even if the caller has
 * closed its fd (whose number may by then name another file).
 */
export function attachSocketFilter(prog: AttachableProgram, socketFd: number): Link {
  if (prog.type !== ProgType.SOCKET_FILTER)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not SOCKET_FILTER`,
    );
  const value = new Uint8Array(4);
  new DataView(value.buffer).setInt32(0, prog.fd, true);
  const r = setSockOpt(socketFd, SOL_SOCKET, SO_ATTACH_BPF, value);
  if (r < 0) {
    if (-r === ENOTSOCK || -r === Errno.EBADF)
      throw new AttachError(
        `fd ${socketFd} is not an open socket: cannot attach ${progLabel(prog)}`,
      );
    throw new SysError("setsockopt(SO_ATTACH_BPF)", -r, { subject: `socket fd ${socketFd}` });
  }
  const sock = dupFd(socketFd);
  return new CallbackLink(
    "socket_filter",
    `socket_filter ${prog.name} on socket fd ${socketFd}`,
    () => {
      try {
        const d = setSockOpt(sock.fd, SOL_SOCKET, SO_DETACH_BPF, new Uint8Array(4));
        // ENOENT: nothing attached any more (someone detached or replaced it).
        if (d < 0 && -d !== Errno.ENOENT)
          throw new SysError("setsockopt(SO_DETACH_BPF)", -d, { subject: `socket fd ${socketFd}` });
      } finally {
        sock.close();
      }
    },
  );
}
