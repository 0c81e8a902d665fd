// `tsbpf/probe`: what probe authors import. These are typed declarations; the tsbpf compiler
// recognises each one by its symbol and gives it eBPF meaning. Executed in Node they throw,
// because probe code only makes sense inside the kernel.
//
// Keep this module free of runtime dependencies and of lib features beyond the compiler's
// minimal lib (src/compiler/frontend/lib.ts): the compiler type-checks probes against it with noLib.
//
// One file per concern; each names the compiler file that lowers what it declares:
// object.ts (license, globals), maps.ts, context.ts (packet views, contexts), actions.ts,
// programs.ts (program kinds), socket-kinds.ts (perf_event, lsm, sockops, sk_skb/sk_msg and
// socket maps), helpers.ts, kernel.ts (kernel structs).
export * from "./object.js";
export * from "./maps.js";
export * from "./context.js";
export * from "./actions.js";
export * from "./programs.js";
export * from "./socket-kinds.js";
export * from "./helpers.js";
export * from "./atomics.js";
export * from "./kernel.js";
export * from "./histogram.js";
export * from "./log.js";
