// Calls: tsbpf/probe helpers and map methods (recognised by symbol), context and view
// methods, and local functions (inlined).
import { lowerBuiltin } from "./builtins.js";
import { checkMapAdd, lowerMapAdd } from "./map-add.js";
import { lowerHistRecord } from "./histogram.js";
import { lowerSockMapMethod } from "./sock-maps.js";
import { lowerAtomics } from "./atomics.js";
import ts from "typescript";
import { checkNoUseAfterRelease } from "./release.js";
import type { Type } from "../../types/index.js";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type Base, type Block, type Operand, type VReg } from "../ir/ir.js";
import type { LowerHost } from "./host.js";
import { kernelProbeFunction } from "./kernel-types.js";
import { kconfigUses } from "../ir/kernel-structs.js";
import { canonical } from "../frontend/typecheck.js";
import { padding } from "./layout.js";
import { lowerViewMethod, parsePacket, type ParseLevel } from "./packet.js";
import { packetCtxMethod, packetFunction } from "./packet-write.js";
import { vlanLevel, withExtensions } from "./packet-headers.js";
import type { MapDecl } from "../module/scan.js";
import { describeValue, type MapDataValue, type RefValue, type Value } from "./values.js";
import { TcAction, XdpAction } from "../../probe/index.js";
import { helperIds } from "../../obj/helpers.js";
import { CONTEXTS, kindInfo, registerOffset } from "../../obj/program-kinds.js";

/** The helpers lowering calls, by name; ids from obj/helpers.ts (enum bpf_func_id). */
export const Helper = helperIds([
  "map_lookup_elem",
  "map_update_elem",
  "map_delete_elem",
  "ktime_get_ns",
  "trace_printk",
  "get_prandom_u32",
  "get_smp_processor_id",
  "tail_call",
  "get_current_pid_tgid",
  "get_current_uid_gid",
  "get_current_comm",
  "redirect",
  "perf_event_output",
  "skb_load_bytes",
  "get_stackid",
  "get_current_cgroup_id",
  "probe_read_user",
  "probe_read_kernel",
  "probe_read_user_str",
  "probe_read_kernel_str",
  "ktime_get_boot_ns",
  "ringbuf_output",
  "ringbuf_reserve",
  "ringbuf_submit",
  "ringbuf_discard",
  "xdp_load_bytes",
]);

const BPF_F_CURRENT_CPU = 0xffffffffn;

const NO_ARG_HELPERS: Record<string, number> = {
  pidTgid: Helper.get_current_pid_tgid,
  uidGid: Helper.get_current_uid_gid,
  ktimeGetNs: Helper.ktime_get_ns,
  ktimeGetBootNs: Helper.ktime_get_boot_ns,
  prandom: Helper.get_prandom_u32,
  smpProcessorId: Helper.get_smp_processor_id,
  cgroupId: Helper.get_current_cgroup_id,
};

const PROBE_READS: Record<string, number> = {
  probeReadUser: Helper.probe_read_user,
  probeReadKernel: Helper.probe_read_kernel,
  probeReadUserStr: Helper.probe_read_user_str,
  probeReadKernelStr: Helper.probe_read_kernel_str,
};

function call(lw: LowerHost, helper: number, args: Operand[], wantResult = true): Value {
  if (args.length > 5) throw new Error("internal: more than five helper arguments");
  const dst = wantResult ? lw.vreg() : undefined;
  lw.emit({ op: "call", dst, helper, args });
  lw.releaseTemps();
  return dst === undefined ? { k: "void" } : { k: "int", op: reg(dst) };
}

const mapFd = (lw: LowerHost, m: MapDecl): Operand => {
  const d = lw.vreg();
  lw.emit({ op: "mapfd", dst: d, map: m.name });
  return reg(d);
};

const slotAddr = (lw: LowerHost, slot: number, off = 0): Operand => {
  const d = lw.vreg();
  lw.emit({ op: "addr", dst: d, slot, off });
  return reg(d);
};

/** A pointer operand to memory described by a ref (map value field, stack struct). */
const refAddr = (lw: LowerHost, base: Base, off: number): Operand => {
  if (base.kind === "slot") return slotAddr(lw, base.slot, off);
  return off === 0 ? reg(base.id) : reg(lw.alu("add", reg(base.id), imm(off)));
};

export function lowerCall(
  lw: LowerHost,
  e: ts.CallExpression,
  targets?: { t: Block; f: Block },
): Value | "branched" {
  const callee = e.expression;
  if (e.questionDotToken)
    throw CompileError.at(e, Code.Unsupported, "optional calls (?.) are not supported");
  const builtin = lowerBuiltin(lw, e);
  if (builtin) return builtin;
  if (ts.isPropertyAccessExpression(callee)) {
    const method = callee.name.text;
    const api = lw.mod.consts.apiName(callee.expression);
    if (api?.module === "probe" && api.name === "Atomics") return lowerAtomics(lw, method, e);
    if (api?.module === "probe" && api.name === "MapData") {
      if (method !== "withPayload")
        throw CompileError.at(
          callee,
          Code.BadApi,
          `MapData.${method} is not available in probe code`,
        );
      const [v, off, size] = e.arguments;
      if (!v || !off || !size)
        throw CompileError.at(
          e,
          Code.BadApi,
          "MapData.withPayload(value, offset, size) takes three arguments",
        );
      const md: MapDataValue = {
        k: "mapdata",
        value: lw.expr(v),
        offset: lw.expr(off),
        size: lw.expr(size),
        node: e,
      };
      return md;
    }
    const obj = lw.expr(callee.expression);
    switch (obj.k) {
      case "map":
        return mapMethod(lw, obj.map, method, e);
      case "ctx":
        return ctxMethod(lw, method, e);
      case "packet":
        return packetMethod(lw, method, e);
      case "view":
        return lowerViewMethod(lw, obj, method, e.arguments, e, targets);
      default:
        throw CompileError.at(
          e,
          Code.Unsupported,
          `cannot call .${method}() on ${describeValue(obj)} in probe code`,
        );
    }
  }
  if (ts.isIdentifier(callee)) {
    const api = lw.mod.consts.apiName(callee);
    if (api?.module === "probe") return probeFunction(lw, api.name, e);
    if (api)
      throw CompileError.at(
        callee,
        Code.Unsupported,
        `${api.name}() from tsbpf/types is for declarations, not probe code`,
      );
    const fn = lw.expr(callee);
    if (fn.k === "fn") return lw.inline(fn.decl, e.arguments, e);
    throw CompileError.at(
      callee,
      Code.Unsupported,
      `${callee.text} is not a function probes can call`,
    );
  }
  throw CompileError.at(
    e,
    Code.Unsupported,
    "only named functions and methods can be called in probe code",
  );
}

function argInt(lw: LowerHost, e: ts.CallExpression, i: number, dflt?: bigint): Operand {
  const a = e.arguments[i];
  if (!a) {
    if (dflt !== undefined) return imm(dflt);
    throw CompileError.at(e, Code.BadApi, `missing argument ${i + 1}`);
  }
  return lw.int(lw.expr(a), a);
}

function argRef(lw: LowerHost, e: ts.CallExpression, i: number, what: string): RefValue {
  const a = e.arguments[i];
  const v = a && lw.expr(a);
  if (!v || v.k !== "ref")
    throw CompileError.at(
      a ?? e,
      Code.BadApi,
      `${what} must be a field in memory (a map value or context field), got ${v ? describeValue(v) : "nothing"}`,
    );
  return v;
}

function probeFunction(lw: LowerHost, name: string, e: ts.CallExpression): Value {
  const kernel = kernelProbeFunction(lw, name, e, kconfigUses(lw.mod));
  if (kernel) return kernel;
  const pf = packetFunction(lw, name, e); // helper(), csumReplace/Diff/Fold: packet-write.ts
  if (pf) return pf;
  const helper = NO_ARG_HELPERS[name];
  if (helper !== undefined) return call(lw, helper, []);
  const read = PROBE_READS[name];
  if (read !== undefined) {
    const into = argRef(lw, e, 0, `${name}(into)`);
    if (into.readonly)
      throw CompileError.at(
        e.arguments[0]!,
        Code.BadApi,
        `${name}(): the destination is read-only`,
      );
    const src = argInt(lw, e, 1);
    return call(lw, read, [refAddr(lw, into.base, into.off), imm(into.type.size), src]);
  }
  switch (name) {
    case "comm": {
      const into = argRef(lw, e, 0, "comm(into)");
      return call(lw, Helper.get_current_comm, [
        refAddr(lw, into.base, into.off),
        imm(into.type.size),
      ]);
    }
    case "tracePrintk": {
      const fmtArg = e.arguments[0];
      const fmt = fmtArg && lw.mod.consts.eval(fmtArg);
      if (typeof fmt !== "string")
        throw CompileError.at(
          fmtArg ?? e,
          Code.NotConstant,
          "tracePrintk(): the format must be a string literal",
        );
      if (e.arguments.length > 4)
        throw CompileError.at(
          e,
          Code.BadApi,
          "tracePrintk(): at most three values after the format",
        );
      const rest = e.arguments.slice(1).map((a) => lw.int(lw.expr(a), a));
      const bytes = [...new TextEncoder().encode(fmt), 0];
      // whole 8-byte words: the stores below are 8 bytes wide and must be aligned
      const slot = lw.slot((bytes.length + 7) & ~7, "the tracePrintk format", e, true);
      for (let o = 0; o < bytes.length; o += 8) {
        let k = 0n;
        for (let i = 7; i >= 0; i--) k = (k << 8n) | BigInt(bytes[o + i] ?? 0);
        lw.emit({
          op: "store",
          base: { kind: "slot", slot },
          off: o,
          size: 8,
          value: imm(BigInt.asIntN(64, k)),
        });
      }
      return call(lw, Helper.trace_printk, [slotAddr(lw, slot), imm(bytes.length), ...rest]);
    }
    case "redirect":
      checkRedirectUse(lw, e);
      return call(lw, Helper.redirect, [argInt(lw, e, 0), argInt(lw, e, 1, 0n)]);
    case "atomicAdd": {
      const target = argRef(lw, e, 0, "atomicAdd(target)");
      const fieldArg = e.arguments[1];
      const field = fieldArg && lw.mod.consts.eval(fieldArg);
      if (typeof field !== "string")
        throw CompileError.at(
          fieldArg ?? e,
          Code.NotConstant,
          "atomicAdd(): the field name must be a string literal",
        );
      const place = lw.refMember(target, field, fieldArg!);
      if (
        place.k !== "ref" ||
        place.type.kind !== "int" ||
        (place.type.size !== 4 && place.type.size !== 8) ||
        place.type.byteOrder !== "little"
      )
        throw CompileError.at(
          fieldArg!,
          Code.BadApi,
          "atomicAdd(): the field must be a u32/u64/i32/i64",
        );
      if (place.readonly)
        throw CompileError.at(fieldArg!, Code.BadApi, "atomicAdd(): the target is read-only");
      lw.emit({
        op: "atomicAdd",
        base: place.base,
        off: place.off,
        size: place.type.size as 4 | 8,
        value: argInt(lw, e, 2),
      });
      return { k: "void" };
    }
    case "toNumber":
    case "toBigInt":
      return { k: "int", op: argInt(lw, e, 0) };
  }
  throw CompileError.at(e, Code.Unsupported, `${name}() cannot be called inside a program`);
}

/** The key or value of a map call, materialised on the stack with the map's layout. */
function onStack(lw: LowerHost, e: ts.CallExpression, i: number, t: Type, what: string): Operand {
  return placeOnStack(lw, e, i, argValue(lw, e, i, what), t, what);
}

/** Evaluate argument `i` (before any temporary slot of the call is allocated). */
function argValue(lw: LowerHost, e: ts.CallExpression, i: number, what: string): Value {
  const a = e.arguments[i];
  if (!a) throw CompileError.at(e, Code.BadApi, `missing ${what}`);
  return lw.expr(a);
}

/**
 * Put an evaluated argument where a helper can read it. Evaluate every argument of a call
 * first: evaluating one may emit another call, which frees the temporaries allocated so far.
 */
function placeOnStack(
  lw: LowerHost,
  e: ts.CallExpression,
  i: number,
  v: Value,
  t: Type,
  what: string,
): Operand {
  const a = e.arguments[i]!;
  // Stack structs and map values are memory a helper can read as is; context memory is not.
  if (v.k === "ref" && !v.readonly && v.type.size === t.size && v.type.kind === t.kind)
    return refAddr(lw, v.base, v.off);
  const slot = lw.materializeOnStack(v, t, a, what, true);
  return slotAddr(lw, slot);
}

function mapMethod(lw: LowerHost, m: MapDecl, method: string, e: ts.CallExpression): Value {
  const keyed = m.key !== undefined && m.cls !== "PerfMap" && m.cls !== "RingBuf";
  if (m.hist && method === "record")
    return lowerHistRecord(lw, m, e, {
      arg: (i) => argValue(lw, e, i, i === 0 ? `the key of ${m.name}` : "the value"),
      keyOnStack: (i, v) => placeOnStack(lw, e, i, v, m.key!, `the key of ${m.name}`),
      fd: () => mapFd(lw, m),
      call: (h, args) => call(lw, h, args),
    });
  if (keyed && method === "get") {
    const key = onStack(lw, e, 0, m.key!, `the key of ${m.name}`);
    const r = call(lw, Helper.map_lookup_elem, [mapFd(lw, m), key]);
    const p = (r as { op: Operand }).op as { kind: "reg"; id: VReg };
    return {
      k: "ref",
      base: { kind: "reg", id: p.id },
      off: 0,
      type: m.value!,
      nullable: true,
      nullReg: p.id,
      readonly: false,
    };
  }
  if (keyed && method === "set") {
    const kv = argValue(lw, e, 0, `the key of ${m.name}`);
    const vv = argValue(lw, e, 1, `the value of ${m.name}`);
    const flags = argInt(lw, e, 2, 0n);
    const key = placeOnStack(lw, e, 0, kv, m.key!, `the key of ${m.name}`);
    const value = placeOnStack(lw, e, 1, vv, m.value!, `the value of ${m.name}`);
    return call(lw, Helper.map_update_elem, [mapFd(lw, m), key, value, flags]);
  }
  if (keyed && method === "add") {
    checkMapAdd(m, e);
    const key = onStack(lw, e, 0, m.key!, `the key of ${m.name}`);
    const delta = argInt(lw, e, 1);
    const value = placeOnStack(
      lw,
      e,
      1,
      { k: "int", op: delta },
      m.value!,
      `the value of ${m.name}`,
    );
    return lowerMapAdd(lw, m, {
      key,
      value,
      delta,
      fd: () => mapFd(lw, m),
      call: (h, args) => call(lw, h, args),
    });
  }
  if (keyed && method === "delete" && m.cls !== "ArrayMap" && m.cls !== "PerCpuArrayMap") {
    const key = onStack(lw, e, 0, m.key!, `the key of ${m.name}`);
    return call(lw, Helper.map_delete_elem, [mapFd(lw, m), key]);
  }
  if (m.cls === "PerfMap" && method === "insert") {
    const ctx = ctxArg(lw, e, 0);
    const a = e.arguments[1];
    if (!a) throw CompileError.at(e, Code.BadApi, "insert(ctx, event) needs the event");
    const v = lw.expr(a);
    const t = m.value!;
    if (v.k === "mapdata") {
      // C layout of struct { T data; u32 offset; u32 size; } (src/map/map-data.ts decodes it).
      const offAt = Math.ceil(t.size / 4) * 4;
      const align = Math.max(t.align, 4);
      const total = Math.ceil((offAt + 8) / align) * align;
      const slot = lw.slot(total, `the MapData event of ${m.name}`, a, true);
      const base: Base = { kind: "slot", slot };
      // Initialise only the padding; every field is stored below.
      for (const [a, b] of padding(t)) lw.zero(base, a, b - a);
      if (offAt > t.size) lw.zero(base, t.size, offAt - t.size);
      if (total > offAt + 8) lw.zero(base, offAt + 8, total - offAt - 8);
      lw.storeValue(
        { k: "ref", base, off: 0, type: t, nullable: false, readonly: false },
        v.value,
        a,
      );
      const off = lw.int(v.offset, v.node);
      const size = lw.int(v.size, v.node);
      lw.emit({ op: "store", base, off: offAt, size: 4, value: off });
      lw.emit({ op: "store", base, off: offAt + 4, size: 4, value: size });
      // flags: BPF_F_CURRENT_CPU | (size << 32) appends `size` packet bytes (XDP/skb contexts).
      const sizeMasked = lw.alu("and", size, imm(0xffffffffn));
      const flags = lw.alu(
        "or",
        reg(lw.alu("lsh", reg(sizeMasked), imm(32))),
        imm(BPF_F_CURRENT_CPU),
      );
      return call(lw, Helper.perf_event_output, [
        ctx,
        mapFd(lw, m),
        reg(flags),
        slotAddr(lw, slot),
        imm(total),
      ]);
    }
    const data = placeOnStack(lw, e, 1, v, t, `the event of ${m.name}`);
    return call(lw, Helper.perf_event_output, [
      ctx,
      mapFd(lw, m),
      imm(BPF_F_CURRENT_CPU),
      data,
      imm(t.size),
    ]);
  }
  if (m.cls === "RingBuf" && method === "output") {
    const a = e.arguments[0];
    const v = argValue(lw, e, 0, `the event of ${m.name}`);
    if (v.k === "mapdata") return ringbufMapData(lw, m, v, e);
    void a;
    const flags = argInt(lw, e, 1, 0n);
    const data = placeOnStack(lw, e, 0, v, m.value!, `the event of ${m.name}`);
    return call(lw, Helper.ringbuf_output, [mapFd(lw, m), data, imm(m.value!.size), flags]);
  }
  if (m.cls === "RingBuf" && method === "reserve") {
    const r = call(lw, Helper.ringbuf_reserve, [mapFd(lw, m), imm(m.value!.size), imm(0)]);
    const p = (r as { op: Operand }).op as { kind: "reg"; id: VReg };
    return {
      k: "ref",
      base: { kind: "reg", id: p.id },
      off: 0,
      type: m.value!,
      nullable: true,
      nullReg: p.id,
      readonly: false,
    };
  }
  if (m.cls === "RingBuf" && (method === "submit" || method === "discard")) {
    const ev = argRef(lw, e, 0, `${method}(event)`);
    if (ev.base.kind !== "reg" || ev.off !== 0)
      throw CompileError.at(
        e.arguments[0]!,
        Code.BadApi,
        `${method}() takes the event returned by reserve()`,
      );
    checkNoUseAfterRelease(lw.fe.checker, e, e.arguments[0]!, method);
    const helper = method === "submit" ? Helper.ringbuf_submit : Helper.ringbuf_discard;
    return call(lw, helper, [reg(ev.base.id), argInt(lw, e, 1, 0n)], false);
  }
  if (m.cls === "ProgArray" && method === "tailCall") {
    const ctx = ctxArg(lw, e, 0);
    return call(lw, Helper.tail_call, [ctx, mapFd(lw, m), argInt(lw, e, 1)], false);
  }
  if (m.cls === "StackTraceMap" && method === "getStackId") {
    const ctx = ctxArg(lw, e, 0);
    return call(lw, Helper.get_stackid, [ctx, mapFd(lw, m), argInt(lw, e, 1, 0n)]);
  }
  if (m.cls === "SockMap" || m.cls === "SockHash")
    return lowerSockMapMethod(lw, { ...m, cls: m.cls }, method, e, {
      call: (h, args) => call(lw, h, args),
      fd: () => mapFd(lw, m),
      ctx: (i) => ctxArg(lw, e, i),
      int: (i, d) => argInt(lw, e, i, d),
      keyAddr: (i) => onStack(lw, e, i, m.key!, `the key of ${m.name}`),
    });
  throw CompileError.at(
    e,
    Code.BadApi,
    `map ${m.name} (${m.cls}) has no method ${method}() in probe code`,
  );
}

/** Packet bytes a ring buffer record carries at most (records have a fixed size). */
export const RINGBUF_CAPTURE = 512;

/**
 * `ring.output(MapData.withPayload(v, offset, size))`: a ring buffer cannot append packet
 * bytes the way perf output does, so reserve `header + RINGBUF_CAPTURE` bytes, write the
 * header, copy min(size, capture) packet bytes with bpf_xdp_load_bytes / bpf_skb_load_bytes,
 * and submit. `size` in the record says how many bytes were captured. Returns 0, or -105
 * (ENOBUFS) when the ring is full.
 */
function ringbufMapData(lw: LowerHost, m: MapDecl, v: MapDataValue, e: ts.CallExpression): Value {
  const loadBytes = kindInfo(lw.prog.kind).loadBytes;
  if (!loadBytes)
    throw CompileError.at(
      e,
      Code.BadApi,
      "MapData.withPayload carries packet bytes: only packet programs can send it",
    );
  const t = m.value!;
  const offAt = Math.ceil(t.size / 4) * 4;
  const align = Math.max(t.align, 4);
  const header = Math.ceil((offAt + 8) / align) * align;
  const total = header + RINGBUF_CAPTURE;
  const res = lw.vreg();
  const r = call(lw, Helper.ringbuf_reserve, [mapFd(lw, m), imm(total), imm(0)]);
  const p = ((r as { op: Operand }).op as { kind: "reg"; id: VReg }).id;
  const full = lw.newBlock();
  const got = lw.newBlock();
  const join = lw.newBlock();
  lw.branch("eq", reg(p), imm(0), full, got);
  lw.switchTo(full);
  lw.emit({ op: "mov", dst: res, src: imm(-105) });
  lw.jump(join);

  lw.switchTo(got);
  const base: Base = { kind: "reg", id: p };
  for (const [a, b] of padding(t)) lw.zero(base, a, b - a);
  if (offAt > t.size) lw.zero(base, t.size, offAt - t.size);
  if (header > offAt + 8) lw.zero(base, offAt + 8, header - offAt - 8);
  lw.storeValue(
    { k: "ref", base, off: 0, type: t, nullable: false, readonly: false },
    v.value,
    v.node,
  );
  lw.emit({ op: "store", base, off: offAt, size: 4, value: lw.int(v.offset, v.node) });
  // Zero the capture area: bytes past `size` must not show an earlier record's data.
  lw.zero(base, header, RINGBUF_CAPTURE);
  // n = min(size, capture): a bound the verifier sees, as the copy's length must have.
  const n = lw.vreg();
  lw.emit({ op: "alu", alu: "and", dst: n, a: lw.int(v.size, v.node), b: imm(0xffffffffn) });
  const clamp = lw.newBlock();
  const copy = lw.newBlock();
  const copied = lw.newBlock();
  const submit = lw.newBlock();
  lw.branch("gt", reg(n), imm(RINGBUF_CAPTURE), clamp, copy);
  lw.switchTo(clamp);
  lw.emit({ op: "mov", dst: n, src: imm(RINGBUF_CAPTURE) });
  lw.jump(copy);
  lw.switchTo(copy);
  const doCopy = lw.newBlock();
  // `n > 0` (unsigned), not `n != 0`: the copy's length is ARG_CONST_SIZE, which must be
  // provably >= 1, and verifiers before 6.8 learn no lower bound from a `!=` test (Linux 6.1
  // rejects the copy: "R4 min value is outside of the allowed memory range").
  lw.branch("gt", reg(n), imm(0), doCopy, submit);
  lw.switchTo(doCopy);
  const dst = lw.alu("add", reg(p), imm(header));
  const loadHelper = Helper[loadBytes];
  const rc = call(lw, loadHelper, [reg(lw.func.ctx), imm(0), reg(dst), reg(n)]);
  lw.branch("eq", (rc as { op: Operand }).op, imm(0), submit, copied);
  lw.switchTo(copied);
  lw.emit({ op: "mov", dst: n, src: imm(0) }); // the copy failed: no packet bytes
  lw.jump(submit);
  lw.switchTo(submit);
  lw.emit({ op: "store", base, off: offAt + 4, size: 4, value: reg(n) });
  call(lw, Helper.ringbuf_submit, [reg(p), imm(0)], false);
  lw.emit({ op: "mov", dst: res, src: imm(0) });
  lw.jump(join);
  lw.switchTo(join);
  return { k: "int", op: reg(res) };
}

function ctxArg(lw: LowerHost, e: ts.CallExpression, i: number): Operand {
  const a = e.arguments[i];
  const v = a && lw.expr(a);
  if (!v || v.k !== "ctx")
    throw CompileError.at(a ?? e, Code.BadApi, "pass the program's context (ctx) here");
  return reg(lw.func.ctx);
}

function packetMethod(lw: LowerHost, method: string, e: ts.CallExpression): Value {
  const levels: Record<string, () => ParseLevel> = {
    eth: () => "eth",
    ip: () => "ip",
    transport: () => (withExtensions(lw, e) ? "transportX" : "transport"),
    data: () => (withExtensions(lw, e) ? "payloadX" : "payload"),
    icmp: () => "icmp",
    arp: () => "arp",
    vlan: () => vlanLevel(lw, e), // packet-headers.ts: vlan(0 | 1), { ipv6Extensions }
  };
  const level = Object.hasOwn(levels, method) ? levels[method]!() : undefined;
  if (level) return parsePacket(lw, level, e);
  if (method === "len") {
    const p = lw.packet!;
    return { k: "int", op: reg(lw.alu("sub", reg(p.end), reg(p.data))) };
  }
  throw CompileError.at(e, Code.BadApi, `the packet has no method ${method}()`);
}

function ctxMethod(lw: LowerHost, method: string, e: ts.CallExpression): Value {
  const kind = lw.prog.kind;
  const ctx: Base = { kind: "reg", id: lw.func.ctx };
  const written = packetCtxMethod(lw, method, e); // adjustHead, storeBytes…: packet-write.ts
  if (written) return written;
  if (kind === "xdp") return packetMethod(lw, method, e);
  if ((kind === "tc" || kind === "cgroup_skb") && method === "packet") return { k: "packet" };
  if (kind === "socket_filter" && method === "loadBytes") {
    const off = argInt(lw, e, 0);
    const nArg = e.arguments[1];
    const n = nArg && lw.mod.consts.eval(nArg);
    if (n !== 1 && n !== 2 && n !== 4)
      throw CompileError.at(nArg ?? e, Code.BadApi, "loadBytes(offset, n): n must be 1, 2 or 4");
    // Not zeroed first: the helper's buffer is ARG_PTR_TO_UNINIT_MEM (it writes all n bytes,
    // zeros on failure), so the verifier accepts uninitialised stack there.
    const slot = lw.slot(8, "loadBytes buffer", e, true);
    const r = call(lw, Helper.skb_load_bytes, [reg(lw.func.ctx), off, slotAddr(lw, slot), imm(n)]);
    const res = lw.vreg();
    const ok = lw.newBlock();
    const bad = lw.newBlock();
    const join = lw.newBlock();
    lw.branch("eq", (r as { op: Operand }).op, imm(0), ok, bad);
    lw.switchTo(ok);
    const x = lw.load({ kind: "slot", slot }, 0, n);
    if (n === 1) lw.emit({ op: "mov", dst: res, src: reg(x) });
    else lw.emit({ op: "bswap", dst: res, a: reg(x), bits: (n * 8) as 16 | 32 });
    lw.jump(join);
    lw.switchTo(bad);
    lw.emit({ op: "mov", dst: res, src: imm(-1) });
    lw.jump(join);
    lw.switchTo(join);
    return { k: "int", op: reg(res) };
  }
  if (
    (kind === "raw_tracepoint" ||
      kind === "tp_btf" ||
      kind === "fentry" ||
      kind === "fexit" ||
      kind === "iter" ||
      kind === "lsm") &&
    method === "arg"
  ) {
    const iArg = e.arguments[0];
    const i = iArg && lw.mod.consts.eval(iArg);
    if (typeof i !== "number" || !Number.isInteger(i) || i < 0 || i > 11)
      throw CompileError.at(
        iArg ?? e,
        Code.BadApi,
        "arg(i): i must be a constant between 0 and 11",
      );
    const args = CONTEXTS.bpf_raw_tracepoint_args.fields[0];
    return { k: "int", op: reg(lw.load(ctx, args.offset + i * args.elem, args.elem)) };
  }
  // perf_event: bpf_perf_event_data starts with the pt_regs of the sampled context
  if (kindInfo(kind).context === "pt_regs" || kind === "perf_event") {
    // x86-64 pt_regs: what the compiler targets today (the table also holds arm64's)
    const off = registerOffset("x64", method);
    if (off !== undefined) return { k: "int", op: reg(lw.load(ctx, off, 8)) };
  }
  throw CompileError.at(e, Code.BadApi, `the ${lw.prog.api} context has no method ${method}()`);
}

/** What bpf_redirect returns per program kind: redirected, bad flags. */
const REDIRECT = {
  xdp: {
    type: "XdpAction",
    ok: `XdpAction.Redirect (${XdpAction.Redirect})`,
    bad: `XdpAction.Aborted (${XdpAction.Aborted})`,
  },
  tc: {
    type: "TcAction",
    ok: `TcAction.Redirect (${TcAction.Redirect})`,
    bad: `TcAction.Shot (${TcAction.Shot})`,
  },
} as const;

/**
 * `redirect<A>()` takes its type from where its result goes (`return redirect(i)` in an xdp
 * program is an XdpAction), so nothing in TypeScript stops an xdp program from using it as a
 * TcAction, whose Redirect is 7 where XDP's verdict is 4: rejected here, as is a call from a
 * program kind whose verifier refuses bpf_redirect.
 */
function checkRedirectUse(lw: LowerHost, e: ts.CallExpression): void {
  const kind = lw.prog.kind;
  if (kind !== "xdp" && kind !== "tc")
    throw CompileError.at(
      e,
      Code.BadApi,
      `redirect() works in xdp and tc programs; this is a ${lw.prog.api} program`,
    );
  const alias = lw.fe.checker.getTypeAtLocation(e).aliasSymbol;
  const mine = REDIRECT[kind];
  const other = REDIRECT[kind === "xdp" ? "tc" : "xdp"];
  const sym = alias && canonical(lw.fe.checker, alias);
  if (!sym || sym !== lw.fe.probeExports.get(other.type)) return;
  throw CompileError.at(
    e,
    Code.BadApi,
    `redirect() in ${kind === "xdp" ? "an" : "a"} ${kind} program returns ${mine.ok}, or ${mine.bad} for bad flags, but here its result is typed ${other.type}; type it ${mine.type}`,
  );
}
