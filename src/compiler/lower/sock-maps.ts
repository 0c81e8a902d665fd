// SockMap / SockHash methods in probe code (tsbpf/probe socket-kinds.ts): `redirect()` in
// sk_msg and sk_skb programs (bpf_msg_redirect_map/hash, bpf_sk_redirect_map/hash) and
// `update()` in sockops programs (bpf_sock_map_update / bpf_sock_hash_update). The operand
// builders come from intrinsics.ts (mapMethod), which calls this module, so that no value
// import runs back from here.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { imm, type Operand } from "../ir/ir.js";
import type { LowerHost } from "./host.js";
import type { MapDecl } from "../module/scan.js";
import type { Value } from "./values.js";
import { helperIds } from "../../obj/helpers.js";
import { NOT_CONST } from "../module/consteval.js";

const Helper = helperIds([
  "msg_redirect_map",
  "msg_redirect_hash",
  "sk_redirect_map",
  "sk_redirect_hash",
  "sock_map_update",
  "sock_hash_update",
]);

/** BPF_F_INGRESS: redirect to the target socket's receive queue. */
const F_INGRESS = 1n;

/** What intrinsics.ts lends: helper calls and the operands of the call being lowered. */
export interface SockMapOps {
  call(helper: number, args: Operand[]): Value;
  fd(): Operand;
  /** argument i must be the program's context */
  ctx(i: number): Operand;
  /** argument i as an integer operand */
  int(i: number, dflt?: bigint): Operand;
  /** argument i placed on the stack with the map's key layout: its address */
  keyAddr(i: number): Operand;
}

const HELPERS = {
  sk_msg: { SockMap: Helper.msg_redirect_map, SockHash: Helper.msg_redirect_hash },
  sk_skb: { SockMap: Helper.sk_redirect_map, SockHash: Helper.sk_redirect_hash },
} as const;

function redirectFlags(lw: LowerHost, e: ts.CallExpression): Operand {
  const a = e.arguments[2];
  if (!a) return imm(0n);
  const v = lw.mod.consts.eval(a);
  const ingress = typeof v === "object" && v !== null ? (v as { ingress?: unknown }).ingress : v;
  if (v === NOT_CONST || (ingress !== undefined && typeof ingress !== "boolean"))
    throw CompileError.at(
      a,
      Code.BadApi,
      "redirect(ctx, key, options): options is a constant object, e.g. { ingress: true }",
    );
  return imm(ingress === true ? F_INGRESS : 0n);
}

export function lowerSockMapMethod(
  lw: LowerHost,
  m: MapDecl & { cls: "SockMap" | "SockHash" },
  method: string,
  e: ts.CallExpression,
  ops: SockMapOps,
): Value {
  const kind = lw.prog.kind;
  if (method === "redirect") {
    if (kind !== "sk_msg" && kind !== "sk_skb")
      throw CompileError.at(
        e,
        Code.BadApi,
        `${m.name}.redirect() works in skMsg and skSkb programs, not in ${lw.prog.api} programs`,
      );
    const ctx = ops.ctx(0);
    // SockMap keys are u32 values; SockHash keys are passed by address
    const key = m.cls === "SockMap" ? ops.int(1) : ops.keyAddr(1);
    const flags = redirectFlags(lw, e);
    return ops.call(HELPERS[kind][m.cls], [ctx, ops.fd(), key, flags]);
  }
  if (method === "update") {
    if (kind !== "sockops")
      throw CompileError.at(
        e,
        Code.BadApi,
        `${m.name}.update() works in sockops programs (user space updates the map with socket fds)`,
      );
    const ctx = ops.ctx(0);
    const key = ops.keyAddr(1);
    const flags = ops.int(2, 0n);
    const h = m.cls === "SockMap" ? Helper.sock_map_update : Helper.sock_hash_update;
    return ops.call(h, [ctx, ops.fd(), key, flags]);
  }
  throw CompileError.at(
    e,
    Code.BadApi,
    `map ${m.name} (${m.cls}) has no method ${method}() in probe code; it has redirect() and update()`,
  );
}
