// bpffs: where pinned maps, programs and links live.
import { dirname } from "node:path";
import { BPF_FS_MAGIC, fsType, isRoot, mountFs } from "./fs-magic.js";
import { TsbpfError } from "../errors.js";

export const BPFFS_ROOT = "/sys/fs/bpf";

export class BpffsError extends TsbpfError {
  override readonly name = "BpffsError";
}

/** Whether `dir` is on a bpf file system. */
export function isBpffs(dir: string): boolean {
  return fsType(dir) === BPF_FS_MAGIC;
}

/**
 * Makes sure bpffs is mounted at `root` (default /sys/fs/bpf): mounts it when running as root,
 * otherwise throws an error saying how to mount it.
 */
export function ensureBpffs(root: string = BPFFS_ROOT): void {
  if (isBpffs(root)) return;
  if (fsType(root) === undefined)
    throw new BpffsError(`${root} does not exist: cannot mount bpffs there`);
  if (!isRoot())
    throw new BpffsError(
      `bpffs is not mounted at ${root} and mounting it needs root: mount -t bpf bpf ${root}`,
    );
  mountFs("bpf", root);
}

/** Checks that a pin path lies on bpffs (pinning elsewhere fails with a confusing EPERM). */
export function checkPinPath(path: string): void {
  const dir = dirname(path);
  if (dir === BPFFS_ROOT || dir.startsWith(`${BPFFS_ROOT}/`)) ensureBpffs();
  if (!isBpffs(dir))
    throw new BpffsError(
      `cannot pin at ${path}: ${dir} is not on a bpf file system (pins live under ${BPFFS_ROOT}; create the directory first)`,
    );
}
