// sk_skb and sk_msg programs on a SockMap/SockHash: BPF_PROG_ATTACH with the map's fd as the
// target (the programs then run for every socket stored in the map, from the moment it is
// stored). PROG_ATTACH, not BPF_LINK_CREATE: sockmap links exist only since Linux 6.10. The
// attachment belongs to the map; close() (or the process's exit) detaches it with PROG_DETACH.

import { AttachType, MapType, ProgType, nameOf } from "../obj/consts.js";
import { progAttach, progDetach } from "../sys/bpf.js";
import { Errno, SysError } from "../sys/errors.js";
import { AttachError } from "./errors.js";
import { dupFd } from "./fds.js";
import { detachOnExit } from "./exit-cleanup.js";
import { CallbackLink, progLabel, type AttachableProgram, type Link } from "./link.js";

/** A socket map to attach to: a loaded map (its fd, name, type) or a bare fd. */
export interface SockMapTarget {
  readonly fd: number;
  readonly name?: string;
  /** BPF_MAP_TYPE_*: SOCKMAP or SOCKHASH (checked when given) */
  readonly type?: number;
}

const HOOKS: Record<number, readonly number[]> = {
  [ProgType.SK_MSG]: [AttachType.SK_MSG_VERDICT],
  [ProgType.SK_SKB]: [
    AttachType.SK_SKB_STREAM_PARSER,
    AttachType.SK_SKB_STREAM_VERDICT,
    AttachType.SK_SKB_VERDICT,
  ],
};

/**
 * Attach an sk_msg (AttachType.SK_MSG_VERDICT) or sk_skb (SK_SKB_STREAM_PARSER,
 * SK_SKB_STREAM_VERDICT, SK_SKB_VERDICT) program to a SockMap/SockHash.
 */
export function attachSockMap(
  prog: AttachableProgram,
  map: SockMapTarget | number,
  attachType: number,
): Link {
  const m: SockMapTarget = typeof map === "number" ? { fd: map } : map;
  const hooks = HOOKS[prog.type];
  if (!hooks)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program: only sk_msg and sk_skb programs attach to a socket map`,
    );
  if (!hooks.includes(attachType))
    throw new AttachError(
      `${progLabel(prog)}: ${nameOf(AttachType, attachType)} is not a hook of ${nameOf(ProgType, prog.type)} programs`,
    );
  if (m.type !== undefined && m.type !== MapType.SOCKMAP && m.type !== MapType.SOCKHASH)
    throw new AttachError(
      `${progLabel(prog)}: map ${m.name ?? m.fd} is a ${nameOf(MapType, m.type)}, not a SockMap or SockHash`,
    );
  const where = `map ${m.name ?? `fd ${m.fd}`}`;
  const hook = nameOf(AttachType, attachType).toLowerCase();
  try {
    progAttach({ targetFd: m.fd, progFd: prog.fd, attachType });
  } catch (e) {
    if (e instanceof SysError && (e.errno === Errno.EINVAL || e.errno === Errno.EBADF))
      throw new AttachError(
        `cannot attach ${progLabel(prog)} to ${where} (${hook}): ${e.message}; is it a SockMap/SockHash of this object?`,
        { cause: e },
      );
    throw e;
  }
  const mapFd = dupFd(m.fd);
  const progFd = dupFd(prog.fd);
  const teardown = detachOnExit(() => {
    try {
      progDetach({ targetFd: mapFd.fd, progFd: progFd.fd, attachType });
    } finally {
      mapFd.close();
      progFd.close();
    }
  });
  return new CallbackLink("sockmap", `${prog.name} on ${where} (${hook}), prog_attach`, teardown);
}
