// User-space probes (`uprobe/<binary>:<symbol>`, KPROBE programs): the uprobe PMU opens a
// perf event on (path, file offset), optionally for one process; then a perf_event link.

import { readFileSync } from "node:fs";
import { ProgType, nameOf } from "../obj/consts.js";
import { Errno, SysError } from "../sys/errors.js";
import { openUprobe } from "../sys/perf-event.js";
import { resolveBinaryPath } from "./binary-path.js";
import { ElfBinary } from "./elf-symbols.js";
import { AttachError } from "./errors.js";
import { progLabel, type AttachableProgram, type Link } from "./link.js";
import { perfEventLink } from "./perf-link.js";

export interface UprobeOptions {
  /** executable or library: a path, or a name ("libc", "libc.so.6", "bash") to look up */
  binary: string;
  /** function to probe; may carry a version ("malloc@@GLIBC_2.2.5") */
  symbol?: string;
  /** file offset to probe, or (with `symbol`) bytes past the function's start */
  offset?: number;
  /** only this process (and resolve `binary` through its mappings); default every process */
  pid?: number;
  /** probe the function's return instead of its entry */
  retprobe?: boolean;
  /** bpf_get_attach_cookie() value (bpf_link only) */
  cookie?: bigint | number;
}

export interface UprobeTarget {
  path: string;
  offset: number;
}

/** Where a uprobe goes: the binary's path and the file offset (pure, reads only files). */
export function resolveUprobeTarget(opts: UprobeOptions): UprobeTarget {
  const path = resolveBinaryPath(opts.binary, opts.pid === undefined ? {} : { pid: opts.pid });
  const extra = opts.offset ?? 0;
  if (!Number.isSafeInteger(extra) || extra < 0)
    throw new AttachError(`uprobe offset must be a non-negative integer, not ${opts.offset}`);
  if (opts.symbol === undefined || opts.symbol === "") {
    if (opts.offset === undefined)
      throw new AttachError(`uprobe on ${path} needs a symbol or an offset`);
    return { path, offset: extra };
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new AttachError(`cannot read uprobe target ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const elf = ElfBinary.parse(bytes, path);
  return { path, offset: elf.functionOffset(opts.symbol) + extra };
}

/** Attach a KPROBE-type program as a uprobe or uretprobe. */
export function attachUprobe(prog: AttachableProgram, opts: UprobeOptions): Link {
  const kind = opts.retprobe ? "uretprobe" : "uprobe";
  if (prog.type !== ProgType.KPROBE)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program; ${kind}s run KPROBE programs`,
    );
  const t = resolveUprobeTarget(opts);
  const hex = (n: number) => `0x${n.toString(16)}`;
  const where =
    opts.symbol === undefined || opts.symbol === ""
      ? `${t.path}:${hex(t.offset)}`
      : `${t.path}:${opts.symbol}${opts.offset ? `+${hex(opts.offset)}` : ""}`;
  let event;
  try {
    event = openUprobe({
      path: t.path,
      offset: t.offset,
      retprobe: !!opts.retprobe,
      pid: opts.pid ?? -1,
    });
  } catch (e) {
    if (e instanceof SysError && e.errno === Errno.ESRCH)
      throw new AttachError(`no process ${opts.pid} to attach the ${kind} ${where} to`, {
        cause: e,
      });
    if (e instanceof SysError && e.errno === Errno.ENOENT && e.subject?.endsWith("PMU"))
      throw new AttachError("kernel lacks uprobes (CONFIG_UPROBE_EVENTS)", { cause: e });
    if (e instanceof SysError && e.errno === Errno.EINVAL)
      throw new AttachError(
        `the kernel refused ${kind} ${where} (file offset 0x${t.offset.toString(16)}): it must lie inside the file on an instruction boundary`,
        { cause: e },
      );
    throw e;
  }
  const pid = opts.pid === undefined ? "" : ` pid ${opts.pid}`;
  return perfEventLink(
    kind,
    `${kind} ${prog.name} on ${where} (offset 0x${t.offset.toString(16)}${pid})`,
    prog,
    event,
    opts.cookie,
  );
}
