// Pseudo file systems eBPF needs (bpffs for pins, tracefs for tracepoints and probes):
// recognise them by statfs magic, mount them when root, or say clearly what is missing.
import { statfsSync } from "node:fs";
import { SysError } from "./errors.js";
import { native } from "./native.js";

export const BPF_FS_MAGIC = 0xcafe4a11;
export const TRACEFS_MAGIC = 0x74726163;
export const DEBUGFS_MAGIC = 0x64626720;

/** statfs type of `path`, or undefined when it does not exist. */
export function fsType(path: string): number | undefined {
  try {
    return Number(statfsSync(path).type) >>> 0;
  } catch {
    return undefined;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Mounts `fstype` at `target` (which must exist). Throws a SysError naming the mount. */
export function mountFs(fstype: string, target: string): void {
  const r = native().mount(fstype, target, fstype, 0);
  if (r < 0)
    throw new SysError("mount", -r, {
      subject: `${fstype} on ${target}`,
      hint: `mount it yourself: mount -t ${fstype} ${fstype} ${target} (needs root)`,
    });
}
