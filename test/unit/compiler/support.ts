// Compile probe sources held in memory (virtual files outside the package, so their type
// errors are reported like a user's).
import {
  compileProbe,
  type CompiledProbe,
  type CompileOptions,
} from "../../../src/compiler/index.js";

let counter = 0;

export const HEADER = `import { program, map, xdp, tc, socketFilter, cgroupSkb, tracepoint, rawTracepoint, tpBtf, fentry, fexit, iter, kprobe, kretprobe, uprobe, uretprobe, HashMap, ArrayMap, PerCpuHashMap, PerCpuArrayMap, LruHashMap, PerfMap, RingBuf, ProgArray, MapData, XdpAction, TcAction, SkAction, pidTgid, uidGid, ktimeGetNs, prandom, smpProcessorId, tracePrintk, helper, atomicAdd, toNumber, toBigInt, type XdpContext } from "tsbpf/probe";
import { struct, u8, u16, u32, u64, i32, be16, be32, array, type Infer } from "tsbpf/types";
program({ license: "GPL" });
`;

/** Path of a fresh virtual probe file. */
export function virtualPath(name = "probe"): string {
  return `/tmp/tsbpf-virtual/${name}-${process.pid}-${counter++}.ts`;
}

/** Compile `body` after the standard imports (HEADER); returns the compiled probe. */
export function compileSource(
  body: string,
  opts: CompileOptions & { raw?: boolean } = {},
): CompiledProbe {
  const path = virtualPath();
  const text = opts.raw ? body : HEADER + body;
  return compileProbe(path, { ...opts, sources: new Map([[path, text]]) });
}

/** 1-based line of `needle` in HEADER + body. */
export function lineOf(body: string, needle: string, raw = false): number {
  const text = raw ? body : HEADER + body;
  const idx = text.indexOf(needle);
  if (idx < 0) throw new Error(`needle not found: ${needle}`);
  return text.slice(0, idx).split("\n").length;
}
