// Pinning a program, map or link in bpffs with errors that say what is in the way.
import { objPin } from "../sys/bpf.js";
import { checkPinPath } from "../sys/bpffs.js";
import { Errno, SysError } from "../sys/errors.js";

/** BPF_OBJ_PIN `fd` at `path` (a bpffs path); `what` names the object in errors. */
export function pinObject(fd: number, path: string, what: string): void {
  checkPinPath(path);
  try {
    objPin(fd, path);
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.EEXIST)
      throw new SysError("BPF_OBJ_PIN", e.errno, {
        subject: `${what} at ${path}`,
        hint: `something is already pinned at ${path}: remove it (rm ${path}) or pin at another path`,
      });
    if (e instanceof SysError && e.errno === Errno.ENOENT)
      throw new SysError("BPF_OBJ_PIN", e.errno, {
        subject: `${what} at ${path}`,
        hint: `the directory of ${path} does not exist: create it first (mkdir -p)`,
      });
    throw e;
  }
}
