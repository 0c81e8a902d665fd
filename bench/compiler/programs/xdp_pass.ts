// Baseline: the smallest XDP program, a constant verdict.
import { program, xdp, XdpAction } from "tsbpf/probe";

program({ license: "GPL" });

export const xdp_pass = xdp(() => XdpAction.Pass);
