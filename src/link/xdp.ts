// XDP on a network interface. bpf_link first (kernel ≥ 5.9): the attachment dies with the
// last fd, so a crashed loader leaves nothing behind. Netlink IFLA_XDP (the `ip link set xdp`
// way) when bpf_link XDP is missing, when asked, or to replace a netlink-attached program;
// that attachment outlives the process, so close() detaches it explicitly, and so does the
// process's end (exit-cleanup.ts) when close() was never called.

import { AttachType, ProgType, XdpFlags, nameOf } from "../obj/consts.js";
import { linkCreate } from "../sys/bpf.js";
import { Errno, SysError } from "../sys/errors.js";
import type { FD } from "../sys/fd.js";
import { AttachError } from "./errors.js";
import { detachOnExit, exitCleanupGap } from "./exit-cleanup.js";
import { dupFd } from "./fds.js";
import { resolveInterface, type Interface } from "./iface.js";
import { CallbackLink, FdLink, progLabel, type AttachableProgram, type Link } from "./link.js";
import { queryXdp, RouteSocket, xdpSetLinkRequest, XdpAttached } from "./rtnetlink.js";

export type XdpMode = "skb" | "drv" | "hw";

export interface XdpOptions {
  /** generic (skb), native driver (drv) or offloaded (hw); default: driver when it can, else generic */
  mode?: XdpMode;
  /** use netlink IFLA_XDP even where bpf_link works (the attachment then outlives the process until close()) */
  netlink?: boolean;
  /** netlink: fail if any program is attached instead of replacing it (bpf_link always does) */
  updateIfNoExist?: boolean;
  /** netlink: atomically replace exactly this attached program (XDP_FLAGS_REPLACE) */
  replace?: AttachableProgram;
  /**
   * netlink in a worker thread: attach although the attachment may stay after the process
   * ends (without it, such an attach is refused; see "Netlink attachments" in docs/api.md)
   */
  mayOutliveProcess?: boolean;
}

const MODE_FLAG: Record<XdpMode, number> = {
  skb: XdpFlags.SKB_MODE,
  drv: XdpFlags.DRV_MODE,
  hw: XdpFlags.HW_MODE,
};
const MODE_NAME: Record<XdpMode, string> = { skb: "generic", drv: "driver", hw: "offload" };

/** Attach an XDP program to `iface` (name or index). */
export function attachXdp(
  prog: AttachableProgram,
  iface: string | number,
  opts: XdpOptions = {},
): Link {
  if (prog.type !== ProgType.XDP)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program, not XDP: it cannot attach to an interface`,
    );
  const ifc = resolveInterface(iface);
  const modeFlag = opts.mode === undefined ? 0 : MODE_FLAG[opts.mode];
  const useNetlink = opts.netlink || opts.updateIfNoExist || opts.replace !== undefined;
  if (!useNetlink) {
    try {
      const fd = linkCreate({
        progFd: prog.fd,
        target: ifc.index,
        attachType: AttachType.XDP,
        flags: modeFlag,
      });
      return new FdLink("xdp", describe(prog, ifc, opts.mode, "bpf_link"), fd);
    } catch (e) {
      // Kernels before 5.9 do not know the XDP link: fall back to netlink.
      if (!(e instanceof SysError) || !(e.errno === Errno.EINVAL || e.errno === Errno.ENOSYS))
        throw explain(e, prog, ifc, opts.mode);
    }
  }
  return attachXdpNetlink(prog, ifc, modeFlag, opts);
}

function attachXdpNetlink(
  prog: AttachableProgram,
  ifc: Interface,
  modeFlag: number,
  opts: XdpOptions,
): Link {
  const gap = exitCleanupGap();
  if (gap !== undefined && !opts.mayOutliveProcess)
    throw new AttachError(
      `refusing to attach XDP ${progLabel(prog)} to ${ifc.name} over netlink (${opts.netlink || opts.updateIfNoExist || opts.replace ? "as asked" : "this kernel has no XDP bpf_link"}): ${gap}, and a netlink attachment is not removed by the kernel when the process dies. Attach from the main thread, or pass { mayOutliveProcess: true } and close() the link yourself`,
    );
  let flags = modeFlag;
  if (opts.updateIfNoExist) flags |= XdpFlags.UPDATE_IF_NOEXIST;
  if (opts.replace) flags |= XdpFlags.REPLACE;
  // Our own reference: close() detaches only while this very program is still attached.
  const mine = dupFd(prog.fd);
  try {
    using sock = new RouteSocket();
    const ack = sock.request((seq) =>
      xdpSetLinkRequest(seq, ifc.index, mine.fd, flags, opts.replace?.fd),
    );
    if (ack.errno !== 0)
      throw explain(
        new SysError("RTM_SETLINK(IFLA_XDP)", ack.errno, {
          subject: `${progLabel(prog)} on ${ifc.name}`,
          ...(ack.message !== undefined && { hint: ack.message }),
        }),
        prog,
        ifc,
        opts.mode,
      );
  } catch (e) {
    mine.close();
    throw e;
  }
  // Detached by close(), or when the process ends (exit-cleanup.ts) if close() never runs.
  const teardown = detachOnExit(() => {
    try {
      detachNetlink(ifc, modeFlag, mine);
    } finally {
      mine.close();
    }
  });
  return new CallbackLink("xdp", describe(prog, ifc, opts.mode, "netlink"), teardown);
}

/** Remove our program: fd -1, guarded by XDP_FLAGS_REPLACE so a newer program stays. */
function detachNetlink(ifc: Interface, modeFlag: number, mine: FD): void {
  using sock = new RouteSocket();
  let ack = sock.request((seq) =>
    xdpSetLinkRequest(seq, ifc.index, -1, modeFlag | XdpFlags.REPLACE, mine.fd),
  );
  // Before 5.7 there is no REPLACE: detach whatever is there.
  if (ack.errno === Errno.EINVAL)
    ack = sock.request((seq) => xdpSetLinkRequest(seq, ifc.index, -1, modeFlag));
  // EEXIST: someone replaced our program since; ENODEV: the interface is gone. Both mean
  // ours is no longer attached.
  if (ack.errno !== 0 && ack.errno !== Errno.EEXIST && ack.errno !== Errno.ENODEV)
    throw new SysError("RTM_SETLINK(IFLA_XDP)", ack.errno, {
      subject: `detach XDP from ${ifc.name}`,
      ...(ack.message !== undefined && { hint: ack.message }),
    });
}

function describe(
  prog: AttachableProgram,
  ifc: Interface,
  mode: XdpMode | undefined,
  how: string,
): string {
  const m = mode === undefined ? "" : `, ${MODE_NAME[mode]} mode`;
  return `xdp ${prog.name} on ${ifc.name} (ifindex ${ifc.index}, ${how}${m})`;
}

/** Turn the usual XDP refusals into errors that say what is in the way. */
function explain(
  e: unknown,
  prog: AttachableProgram,
  ifc: Interface,
  mode: XdpMode | undefined,
): unknown {
  if (!(e instanceof SysError)) return e;
  const where = `${ifc.name} (ifindex ${ifc.index})`;
  if (e.errno === Errno.EBUSY || e.errno === Errno.EEXIST) {
    let holder = "";
    try {
      const q = queryXdp(ifc.index);
      if (q.attached !== XdpAttached.NONE) {
        const id = q.progId || q.drvProgId || q.skbProgId || q.hwProgId;
        holder = ` (program id ${id}, ${["none", "driver", "generic", "offload", "several"][q.attached] ?? "?"} mode)`;
      }
    } catch {
      // the query is only for the message
    }
    return new AttachError(
      `cannot attach XDP ${progLabel(prog)} to ${where}: an XDP program is already attached${holder}. ` +
        `Close the link that holds it, or detach it with \`ip link set dev ${ifc.name} xdp off\`; ` +
        `a netlink-attached program can be swapped with { netlink: true } or { replace: prog }`,
      { cause: e },
    );
  }
  if ((e.errno === Errno.EOPNOTSUPP || e.errno === Errno.ENOTSUPP) && mode !== "skb")
    return new AttachError(
      `cannot attach XDP ${progLabel(prog)} to ${where}: the driver does not support ${mode === undefined ? "native" : MODE_NAME[mode]} XDP; use { mode: "skb" }`,
      { cause: e },
    );
  if (e.errno === Errno.ENODEV)
    return new AttachError(`no network interface with index ${ifc.index} (${ifc.name})`, {
      cause: e,
    });
  return e;
}
