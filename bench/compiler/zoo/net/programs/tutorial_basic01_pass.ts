// xdp-tutorial basic01-xdp-pass (xdp_pass_kern.c, xdp_prog_simple): every frame passes.
import { program, xdp, XdpAction } from "tsbpf/probe";

program({ license: "GPL" });

export const xdp_prog_simple = xdp(() => XdpAction.Pass);
