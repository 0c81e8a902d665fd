// xdp-tutorial basic02-prog-by-name (xdp_prog_kern.c, xdp_drop_func): every frame is dropped.
import { program, xdp, XdpAction } from "tsbpf/probe";

program({ license: "GPL" });

export const xdp_drop_func = xdp(() => XdpAction.Drop);
