// cgroup programs (cgroup_skb, cgroup_sock, cgroup_sock_addr, sysctl, sockopt, device,
// sockops) on a cgroup v2 directory. BPF_LINK_CREATE on the cgroup fd (5.7+): the program runs
// for every process in the cgroup and its descendants while the link lives. Older kernels get
// PROG_ATTACH with BPF_F_ALLOW_MULTI, undone by PROG_DETACH on close().

import { closeSync, openSync } from "node:fs";
import { AttachType, ProgType, nameOf } from "../obj/consts.js";
import { AttachFlags, linkCreate, progAttach, progDetach } from "../sys/bpf.js";
import { Errno, SysError } from "../sys/errors.js";
import { AttachError } from "./errors.js";
import { dupFd } from "./fds.js";
import { detachOnExit } from "./exit-cleanup.js";
import { CallbackLink, FdLink, progLabel, type AttachableProgram, type Link } from "./link.js";

const CGROUP_TYPES: ReadonlySet<number> = new Set([
  ProgType.CGROUP_SKB,
  ProgType.CGROUP_SOCK,
  ProgType.CGROUP_SOCK_ADDR,
  ProgType.CGROUP_SYSCTL,
  ProgType.CGROUP_SOCKOPT,
  ProgType.CGROUP_DEVICE,
  ProgType.SOCK_OPS,
  ProgType.LSM,
]);

/** Open a cgroup v2 directory read-only, with errors that name the path. */
function openCgroup(path: string): number {
  try {
    return openSync(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AttachError(
      code === "ENOENT"
        ? `no cgroup ${path} (cgroup v2 is usually mounted at /sys/fs/cgroup; find yours with \`mount -t cgroup2\`)`
        : `cannot open cgroup ${path}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/**
 * Attach a cgroup program to the cgroup at `cgroup` (a cgroup v2 directory path) with
 * `attachType` (AttachType.CGROUP_INET_INGRESS, …).
 */
export function attachCgroup(prog: AttachableProgram, cgroup: string, attachType: number): Link {
  if (!CGROUP_TYPES.has(prog.type))
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not a cgroup program`,
    );
  const hook = nameOf(AttachType, attachType).toLowerCase();
  const desc = `cgroup ${prog.name} on ${cgroup} (${hook})`;
  const cg = openCgroup(cgroup);
  try {
    try {
      const fd = linkCreate({ progFd: prog.fd, target: cg, attachType });
      return new FdLink("cgroup", `${desc}, bpf_link`, fd);
    } catch (e) {
      if (!(e instanceof SysError) || e.errno !== Errno.EINVAL) throw explain(e, prog, cgroup);
    }
    // Pre-5.7: a multi-attachment that PROG_DETACH removes by program.
    progAttach({ targetFd: cg, progFd: prog.fd, attachType, flags: AttachFlags.ALLOW_MULTI });
    const cgFd = dupFd(cg);
    const progFd = dupFd(prog.fd);
    // A prog_attach outlives the process: detached by close() or when the process ends.
    const teardown = detachOnExit(() => {
      try {
        progDetach({ targetFd: cgFd.fd, progFd: progFd.fd, attachType });
      } finally {
        cgFd.close();
        progFd.close();
      }
    });
    return new CallbackLink("cgroup", `${desc}, prog_attach`, teardown);
  } finally {
    closeSync(cg);
  }
}

function explain(e: unknown, prog: AttachableProgram, cgroup: string): unknown {
  if (e instanceof SysError && e.errno === Errno.EBADF)
    return new AttachError(`${cgroup} is not a cgroup v2 directory (mount -t cgroup2)`, {
      cause: e,
    });
  if (e instanceof SysError && e.errno === Errno.EPERM)
    return new AttachError(
      `cannot attach ${progLabel(prog)} to cgroup ${cgroup}: a program attached there without BPF_F_ALLOW_MULTI forbids more`,
      { cause: e },
    );
  return e;
}

/** cgroup_skb on ingress or egress: attachCgroup with the matching attach type. */
export function attachCgroupSkb(
  prog: AttachableProgram,
  cgroup: string,
  direction: "ingress" | "egress",
): Link {
  return attachCgroup(
    prog,
    cgroup,
    direction === "ingress" ? AttachType.CGROUP_INET_INGRESS : AttachType.CGROUP_INET_EGRESS,
  );
}
