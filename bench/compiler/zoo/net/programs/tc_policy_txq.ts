// bpf-examples tc-policy (tc_txq_policy_kern.c, not_txq_zero): moves packets off TX queue 0
// (queue_mapping 1, which is 1-based) to TX queue 3 (4), and gives packets without a recorded
// queue (0) queue_mapping 3.
import { program, tc, TcAction } from "tsbpf/probe";

program({ license: "GPL" });

export const not_txq_zero = tc((ctx) => {
  if (ctx.queueMapping === 1) ctx.queueMapping = 4;
  if (ctx.queueMapping === 0) ctx.queueMapping = 3;
  return TcAction.Ok;
});
