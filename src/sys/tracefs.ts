// tracefs: tracepoint ids for perf_event_open(PERF_TYPE_TRACEPOINT).
import { readFileSync } from "node:fs";
import { SysError } from "./errors.js";
import { DEBUGFS_MAGIC, TRACEFS_MAGIC, fsType, isRoot, mountFs } from "./fs-magic.js";
import { TsbpfError } from "../errors.js";

export const TRACEFS_ROOT = "/sys/kernel/tracing";
const DEBUGFS_TRACING = "/sys/kernel/debug/tracing";

export class TracefsError extends TsbpfError {
  override readonly name = "TracefsError";
}

let root: string | undefined;

/** The tracefs directory, mounting tracefs at /sys/kernel/tracing when root and missing. */
export function tracefsRoot(): string {
  if (root !== undefined) return root;
  if (fsType(TRACEFS_ROOT) === TRACEFS_MAGIC) return (root = TRACEFS_ROOT);
  if (fsType(DEBUGFS_TRACING) === TRACEFS_MAGIC) return (root = DEBUGFS_TRACING);
  if (fsType(TRACEFS_ROOT) !== undefined && isRoot()) {
    mountFs("tracefs", TRACEFS_ROOT);
    return (root = TRACEFS_ROOT);
  }
  const debugfs =
    fsType("/sys/kernel/debug") === DEBUGFS_MAGIC
      ? " (debugfs is mounted but has no tracing/)"
      : "";
  throw new TracefsError(
    `tracefs is not mounted${debugfs}: mount -t tracefs tracefs ${TRACEFS_ROOT} (needs root; kernel needs CONFIG_TRACING)`,
  );
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** The id of tracepoint `category/name` (e.g. "syscalls", "sys_enter_openat"). */
export function tracepointId(category: string, name: string): number {
  if (!NAME.test(category) || !NAME.test(name))
    throw new TracefsError(`invalid tracepoint name "${category}/${name}"`);
  const file = `${tracefsRoot()}/events/${category}/${name}/id`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new SysError("tracefs", 2, {
        subject: `tracepoint ${category}/${name}`,
        hint: `no such tracepoint on this kernel (see ${tracefsRoot()}/events/${category}/)`,
      });
    // tracefs is root's (mode 0700) on most systems: say which capability reads it.
    if (code === "EACCES" || code === "EPERM")
      throw new SysError("tracefs", code === "EACCES" ? 13 : 1, { subject: file });
    throw new TracefsError(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  const id = Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(id) || id < 0)
    throw new TracefsError(`unexpected content "${text.trim()}" in ${file}`);
  return id;
}
