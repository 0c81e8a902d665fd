// USDT attach for programs built against libbpf's usdt.bpf.h (`SEC("usdt")`, KPROBE programs):
// find the probe's sites in the binary's `.note.stapsdt`, write each site's argument spec into
// the object's `__bpf_usdt_specs` map, and attach a uprobe at each site whose BPF cookie is the
// spec's slot (what `bpf_usdt_arg`/`bpf_usdt_cookie` look up). A probe with a semaphore is
// opened with the uprobe's ref_ctr_offset, so the kernel raises the semaphore in every process
// mapping the file (running or started later) while the probe is attached, and lowers it after.

import { readFileSync } from "node:fs";
import { ProgType, nameOf } from "../obj/consts.js";
import { Errno, SysError } from "../sys/errors.js";
import { openUprobe } from "../sys/perf-event.js";
import { resolveBinaryPath } from "./binary-path.js";
import { ElfBinary } from "./elf-symbols.js";
import { AttachError } from "./errors.js";
import { CallbackLink, progLabel, type AttachableProgram, type Link } from "./link.js";
import { perfEventLink } from "./perf-link.js";
import { encodeUsdtSpec, parseUsdtArgs, readUsdtNotes, USDT_SPEC_SIZE } from "./usdt-notes.js";

/** The object's `__bpf_usdt_specs` array (usdt.bpf.h), as attachUsdt needs it. */
export interface UsdtSpecMap {
  readonly valueSize: number;
  readonly maxEntries: number;
  set(key: Uint8Array, value: Uint8Array): void;
}

export interface UsdtOptions {
  /** executable or library: a path, or a name to look up (as for uprobes) */
  binary: string;
  provider: string;
  name: string;
  /** only this process; default every process mapping the binary */
  pid?: number;
  /** what `bpf_usdt_cookie(ctx)` returns (libbpf's `usdt_cookie`) */
  cookie?: bigint | number;
}

/** Spec slots in use, per spec map (every USDT program of an object shares one map). */
const usedSlots = new WeakMap<object, Set<number>>();

function takeSlot(specs: UsdtSpecMap): number {
  let used = usedSlots.get(specs);
  if (!used) usedSlots.set(specs, (used = new Set()));
  for (let i = 0; i < specs.maxEntries; i++)
    if (!used.has(i)) {
      used.add(i);
      return i;
    }
  throw new AttachError(
    `all ${specs.maxEntries} USDT spec slots are in use: define BPF_USDT_MAX_SPEC_CNT larger before including usdt.bpf.h, or raise __bpf_usdt_specs with the maxEntries option`,
  );
}

/**
 * Attach a program built against usdt.bpf.h to USDT probe `provider:name` of `binary`: every
 * site of the probe gets its argument spec and a uprobe. The link detaches all of them.
 */
export function attachUsdt(
  prog: AttachableProgram,
  specs: UsdtSpecMap | undefined,
  opts: UsdtOptions,
): Link {
  const probe = `${opts.provider}:${opts.name}`;
  if (prog.type !== ProgType.KPROBE)
    throw new AttachError(
      `${progLabel(prog)} is a ${nameOf(ProgType, prog.type)} program; USDT probes run KPROBE programs`,
    );
  if (!specs)
    throw new AttachError(
      `${progLabel(prog)}: the object has no __bpf_usdt_specs map; a USDT program reads its arguments through libbpf's usdt.bpf.h (#include <bpf/usdt.bpf.h>)`,
    );
  if (specs.valueSize !== USDT_SPEC_SIZE)
    throw new AttachError(
      `${progLabel(prog)}: __bpf_usdt_specs has ${specs.valueSize}-byte values, not the ${USDT_SPEC_SIZE} of the usdt.bpf.h tsbpf knows (struct __bpf_usdt_spec)`,
    );
  const path = resolveBinaryPath(opts.binary, opts.pid === undefined ? {} : { pid: opts.pid });
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new AttachError(`cannot read USDT target ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const elf = ElfBinary.parse(bytes, path);
  const notes = readUsdtNotes(elf);
  const sites = notes.filter((n) => n.provider === opts.provider && n.name === opts.name);
  if (sites.length === 0) {
    const have = [...new Set(notes.map((n) => `${n.provider}:${n.name}`))];
    throw new AttachError(
      `no USDT probe ${probe} in ${path} (${have.length ? `it has: ${have.join(", ")}` : "it has no .note.stapsdt probes"})`,
    );
  }
  const hex = (n: number) => `0x${n.toString(16)}`;
  // Resolve everything before attaching anything, so a bad site attaches nothing.
  const planned = sites.map((s) => {
    const where = `USDT ${probe} at ${hex(s.address)} in ${path}`;
    const offset = elf.segmentFileOffset(s.address, { executable: true });
    if (offset === undefined)
      throw new AttachError(`${where}: the address lies in no executable segment of the file`);
    let refCtrOffset: number | undefined;
    if (s.semaphore !== 0) {
      refCtrOffset = elf.segmentFileOffset(s.semaphore);
      if (refCtrOffset === undefined)
        throw new AttachError(
          `${where}: its semaphore at ${hex(s.semaphore)} lies in no segment of the file`,
        );
    }
    return { s, offset, refCtrOffset, args: parseUsdtArgs(s.args, where) };
  });
  const cookie = BigInt(opts.cookie ?? 0);
  const slots: number[] = [];
  const links: Link[] = [];
  const release = () => {
    for (const l of links.splice(0)) l.close();
    const used = usedSlots.get(specs);
    for (const i of slots.splice(0)) used?.delete(i);
  };
  try {
    // One spec per distinct argument text, as libbpf dedups them.
    const slotOf = new Map<string, number>();
    for (const p of planned) {
      let slot = slotOf.get(p.s.args);
      if (slot === undefined) {
        slot = takeSlot(specs);
        slots.push(slot);
        slotOf.set(p.s.args, slot);
        specs.set(new Uint8Array(new Uint32Array([slot]).buffer), encodeUsdtSpec(p.args, cookie));
      }
      const where = `${path}:${probe} (offset ${hex(p.offset)}${p.refCtrOffset !== undefined ? `, semaphore ${hex(p.refCtrOffset)}` : ""}${opts.pid === undefined ? "" : ` pid ${opts.pid}`})`;
      let event;
      try {
        event = openUprobe({
          path,
          offset: p.offset,
          pid: opts.pid ?? -1,
          ...(p.refCtrOffset !== undefined && { refCtrOffset: p.refCtrOffset }),
        });
      } catch (e) {
        if (e instanceof SysError && e.errno === Errno.ESRCH)
          throw new AttachError(`no process ${opts.pid} to attach USDT ${probe} to`, { cause: e });
        if (e instanceof SysError && e.errno === Errno.EINVAL && p.refCtrOffset !== undefined)
          throw new AttachError(
            `the kernel refused USDT ${where}: a probe with a semaphore needs uprobe ref_ctr_offset support (Linux ≥ 4.20), and another attachment of the same site must use the same semaphore`,
            { cause: e },
          );
        throw e;
      }
      links.push(perfEventLink("usdt", `usdt ${prog.name} on ${where}`, prog, event, slot));
    }
  } catch (e) {
    release();
    throw e;
  }
  const n = planned.length;
  return new CallbackLink(
    "usdt",
    `usdt ${prog.name} on ${path}:${probe} (${n} site${n === 1 ? "" : "s"}, bpf_link)`,
    release,
  );
}
