// What a probe that logs gets from the compiler (issue 14): when any of its files contains a
// ``log.level`…` `` call, the module gains
//   - the ring buffer `tsbpf_log` the records go through (LOG_BUFFER_BYTES),
//   - `tsbpf_log_level` (u32, default info) alone in the section `.data.tsbpf_log`, so it is a
//     map of its own that user space rewrites at run time without touching other globals,
//   - `tsbpf_log_drops` (u64, .bss): records lost because the ring buffer was full.
// The formats themselves are collected while lowering (../lower/log.ts) and written by the
// emitter as the `.tsbpf.log` section (obj/log-section.ts).
import ts from "typescript";
import { u32, u64 } from "../../types/index.js";
import { MapType } from "../../obj/consts.js";
import {
  DEFAULT_LOG_LEVEL,
  LOG_DROPS_GLOBAL,
  LOG_LEVEL_GLOBAL,
  LOG_LEVEL_SECTION,
  LOG_MAP,
  type LogFormat,
} from "../../obj/log-section.js";
import { Code, CompileError } from "../errors.js";
import type { ConstEvaluator } from "./consteval.js";
import type { ProbeModule } from "./scan.js";

/** The ring buffer's size: 256 KiB, a few thousand records. */
export const LOG_BUFFER_BYTES = 256 * 1024;

/** The log calls' formats, in id order, filled while lowering. */
export interface LogTable {
  formats: LogFormat[];
  /** a call lowered twice (an inlined function called from two places) gets one id per shape */
  ids: Map<string, number>;
}

/** True when `e` is ``log.<level>`…` `` with `log` from tsbpf/probe. */
export function isLogCall(consts: ConstEvaluator, e: ts.Node): e is ts.TaggedTemplateExpression {
  if (!ts.isTaggedTemplateExpression(e) || !ts.isPropertyAccessExpression(e.tag)) return false;
  const api = consts.apiName(e.tag.expression);
  return api?.module === "probe" && api.name === "log";
}

function usesLog(consts: ConstEvaluator, files: readonly ts.SourceFile[]): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (isLogCall(consts, n)) found = n;
    else ts.forEachChild(n, visit);
  };
  for (const f of files) visit(f);
  return found;
}

/** Add the log map and globals to `mod` when the probe logs. */
export function declareLog(
  mod: ProbeModule,
  consts: ConstEvaluator,
  files: readonly ts.SourceFile[],
): void {
  const at = usesLog(consts, files);
  if (!at) return;
  for (const name of [LOG_MAP, LOG_LEVEL_GLOBAL, LOG_DROPS_GLOBAL])
    if (mod.maps.some((m) => m.name === name) || mod.globals.some((g) => g.name === name))
      throw CompileError.at(
        at,
        Code.Module,
        `the probe logs, so the compiler declares "${name}" itself: rename your map or global of that name`,
      );
  mod.maps.push({
    name: LOG_MAP,
    cls: "RingBuf",
    type: MapType.RINGBUF,
    maxEntries: LOG_BUFFER_BYTES,
    flags: 0,
    node: at,
  });
  const level = new Uint8Array(4);
  new DataView(level.buffer).setUint32(0, DEFAULT_LOG_LEVEL, true);
  mod.globals.push({
    name: LOG_LEVEL_GLOBAL,
    section: LOG_LEVEL_SECTION,
    type: u32,
    offset: 0,
    init: level,
    node: at,
  });
  const bssEnd = mod.globals
    .filter((g) => g.section === ".bss")
    .reduce((n, g) => Math.max(n, g.offset + g.type.size), 0);
  mod.globals.push({
    name: LOG_DROPS_GLOBAL,
    section: ".bss",
    type: u64,
    offset: Math.ceil(bssEnd / 8) * 8,
    node: at,
  });
  mod.log = { formats: [], ids: new Map() };
}
