// cpudist's histogram, shared by the probe and the tool.
import { struct, array, u32, u8, type Infer } from "tsbpf/types";

export const MAX_SLOTS = 36;
export const Hist = struct("Hist", { slots: array(u32, MAX_SLOTS), comm: array(u8, 16) });
export type Hist = Infer<typeof Hist>;
