// tc (SCHED_CLS) programs on an interface's ingress or egress. TCX links (kernel ≥ 6.6) are
// bpf_links: several programs coexist, and a killed loader leaves nothing attached. Older
// kernels (or { netlink: true }) get the classic clsact qdisc + direct-action cls_bpf filter,
// which outlives the process until close() deletes the filter (or the process ends:
// exit-cleanup.ts deletes it then).

import { AttachType, ProgType, nameOf } from "../obj/consts.js";
import { linkCreate } from "../sys/bpf.js";
import { Errno, SysError } from "../sys/errors.js";
import { AttachError } from "./errors.js";
import { detachOnExit, exitCleanupGap } from "./exit-cleanup.js";
import { dupFd } from "./fds.js";
import { resolveInterface, type Interface } from "./iface.js";
import { CallbackLink, FdLink, progLabel, type AttachableProgram, type Link } from "./link.js";
import { bpfFilterRequest, clsactRequest, RouteSocket } from "./rtnetlink.js";

export type TcDirection = "ingress" | "egress";

export interface TcOptions {
  /** default "ingress" */
  direction?: TcDirection;
  /** use clsact + cls_bpf over netlink even where TCX works */
  netlink?: boolean;
  /** netlink filter priority (default 1) and handle (default 1); a pair already in use is EEXIST */
  priority?: number;
  handle?: number;
  /**
   * netlink in a worker thread: attach although the filter may stay after the process ends
   * (without it, such an attach is refused; see "Netlink attachments" in docs/api.md)
   */
  mayOutliveProcess?: boolean;
}

/** Attach a tc program (type SCHED_CLS) to `iface` (name or index). */
export function attachTc(
  prog: AttachableProgram,
  iface: string | number,
  opts: TcOptions = {},
): Link {
  if (prog.type !== ProgType.SCHED_CLS)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not tc (SCHED_CLS)`,
    );
  const dir = opts.direction ?? "ingress";
  if (dir !== "ingress" && dir !== "egress")
    throw new AttachError(`tc direction must be "ingress" or "egress", not "${String(dir)}"`);
  const ifc = resolveInterface(iface);
  if (!opts.netlink) {
    try {
      const fd = linkCreate({
        progFd: prog.fd,
        target: ifc.index,
        attachType: dir === "ingress" ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS,
      });
      return new FdLink("tcx", `tcx ${prog.name} on ${ifc.name} ${dir} (ifindex ${ifc.index})`, fd);
    } catch (e) {
      // Before 6.6 the TCX attach types are unknown (EINVAL): use clsact + cls_bpf.
      if (!(e instanceof SysError) || e.errno !== Errno.EINVAL) throw e;
    }
  }
  const gap = exitCleanupGap();
  if (gap !== undefined && !opts.mayOutliveProcess)
    throw new AttachError(
      `refusing to attach tc ${progLabel(prog)} to ${ifc.name} ${dir} over netlink (${opts.netlink ? "as asked" : "this kernel has no TCX"}): ${gap}, and a cls_bpf filter is not removed by the kernel when the process dies. Attach from the main thread, or pass { mayOutliveProcess: true } and close() the link yourself`,
    );
  return attachClsBpf(prog, ifc, dir, opts.priority ?? 1, opts.handle ?? 1);
}

function attachClsBpf(
  prog: AttachableProgram,
  ifc: Interface,
  dir: TcDirection,
  priority: number,
  handle: number,
): Link {
  if (!Number.isInteger(priority) || priority < 1 || priority > 0xffff)
    throw new AttachError(`tc filter priority must be 1..65535, not ${priority}`);
  using sock = new RouteSocket();
  const q = sock.request((seq) => clsactRequest(seq, ifc.index));
  if (q.errno !== 0 && q.errno !== Errno.EEXIST)
    throw new SysError("RTM_NEWQDISC(clsact)", q.errno, {
      subject: ifc.name,
      hint: q.message ?? "the kernel needs CONFIG_NET_SCH_INGRESS for clsact",
    });
  const createdQdisc = q.errno === 0;
  const name = `${prog.name || "tsbpf"}:[${prog.fd}]`;
  const f = sock.request((seq) =>
    bpfFilterRequest(seq, ifc.index, dir, { progFd: prog.fd, name, handle, priority }),
  );
  if (f.errno !== 0) {
    if (createdQdisc) sock.request((seq) => clsactRequest(seq, ifc.index, true));
    if (f.errno === Errno.EEXIST)
      throw new AttachError(
        `a tc filter with priority ${priority} and handle ${handle} already exists on ${ifc.name} ${dir}; pass another { priority, handle } (see \`tc filter show dev ${ifc.name} ${dir}\`)`,
      );
    throw new SysError("RTM_NEWTFILTER(bpf)", f.errno, {
      subject: `${progLabel(prog)} on ${ifc.name} ${dir}`,
      hint: f.message ?? "the kernel needs CONFIG_NET_CLS_BPF",
    });
  }
  // The filter holds its own program reference; keep one too so the program outlives our caller's.
  const mine = dupFd(prog.fd);
  const desc = `tc ${prog.name} on ${ifc.name} ${dir} (ifindex ${ifc.index}, cls_bpf prio ${priority} handle ${handle})`;
  // Deleted by close(), or when the process ends (exit-cleanup.ts) if close() never runs.
  const teardown = detachOnExit(() => {
    try {
      using s = new RouteSocket();
      const d = s.request((seq) =>
        bpfFilterRequest(seq, ifc.index, dir, { handle, priority, del: true }),
      );
      // ENOENT / ENODEV: the filter or the interface is already gone.
      if (d.errno !== 0 && d.errno !== Errno.ENOENT && d.errno !== Errno.ENODEV)
        throw new SysError("RTM_DELTFILTER(bpf)", d.errno, {
          subject: desc,
          ...(d.message !== undefined && { hint: d.message }),
        });
      // Only a qdisc we created goes, so other tools' filters on a pre-existing one survive.
      if (createdQdisc && d.errno === 0) s.request((seq) => clsactRequest(seq, ifc.index, true));
    } finally {
      mine.close();
    }
  });
  return new CallbackLink("tc", desc, teardown);
}
