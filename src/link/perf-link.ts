// Running a program on a perf event (tracepoint, uprobe, kprobe): a BPF_LINK_CREATE
// PERF_EVENT link where the kernel has it (≥ 5.15), else the PERF_EVENT_IOC_SET_BPF ioctl.
// Either way the perf event fd is ours and is closed with the link.

import { AttachType } from "../obj/consts.js";
import { linkCreate } from "../sys/bpf.js";
import { Errno, SysError } from "../sys/errors.js";
import type { FD } from "../sys/fd.js";
import { perfEventDisable, perfEventEnable, perfEventSetBpf } from "../sys/perf-event.js";
import { AttachError } from "./errors.js";
import { CallbackLink, FdLink, type AttachableProgram, type Link } from "./link.js";

/** Attach `prog` to the perf event `event` (taking ownership of `event`). */
export function perfEventLink(
  kind: string,
  description: string,
  prog: AttachableProgram,
  event: FD,
  cookie?: bigint | number,
): Link {
  try {
    const fd = linkCreate({
      progFd: prog.fd,
      target: event.fd,
      attachType: AttachType.PERF_EVENT,
      ...(cookie !== undefined && { perfEventCookie: cookie }),
    });
    return new FdLink(kind, `${description} (bpf_link)`, fd, event);
  } catch (e) {
    if (!(e instanceof SysError) || e.errno !== Errno.EINVAL) {
      event.close();
      throw e;
    }
    // The ioctl path has no cookie: the program would read 0 instead of what was asked.
    if (cookie !== undefined) {
      event.close();
      throw new AttachError(
        `${description}: the kernel has no perf_event bpf_link (Linux ≥ 5.15), which a BPF cookie needs`,
        { cause: e },
      );
    }
  }
  try {
    perfEventSetBpf(event.fd, prog.fd);
    perfEventEnable(event.fd);
  } catch (e) {
    event.close();
    throw e;
  }
  return new CallbackLink(kind, `${description} (perf ioctl)`, () => {
    try {
      perfEventDisable(event.fd);
    } finally {
      event.close(); // closing the event detaches the program
    }
  });
}
