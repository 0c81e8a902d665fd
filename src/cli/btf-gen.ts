// `tsbpf btf gen`: TypeScript declarations of kernel types for probes (src/obj/btf-to-ts.ts),
// from the running kernel's BTF or a BTF file (a vmlinux ELF or raw BTF, e.g. another kernel's
// /sys/kernel/btf/vmlinux copied here).
import { writeFileSync } from "node:fs";
import { release } from "node:os";
import { coreTargets } from "../load/kernel-btf.js";
import { btfToTs } from "../obj/btf-to-ts.js";
import { UsageError } from "./usage-error.js";

export interface BtfGenOptions {
  btf?: string;
  types: string;
  depth?: string;
  output?: string;
}

/** The struct names a probe most often starts from. */
export const DEFAULT_TYPES = ["task_struct", "file", "sk_buff", "sock", "linux_binprm"];

export function runBtfGen(opts: BtfGenOptions): { interfaces: number; bytes: number } {
  const types = opts.types
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (types.length === 0)
    throw new UsageError("--types: name at least one struct, e.g. task_struct");
  const depth = opts.depth === undefined ? undefined : Number(opts.depth);
  if (depth !== undefined && (!Number.isInteger(depth) || depth < 0 || depth > 16))
    throw new UsageError(`--depth ${opts.depth}: a whole number from 0 to 16`);
  const { vmlinux } = coreTargets(opts.btf);
  const from = opts.btf ?? `/sys/kernel/btf/vmlinux (Linux ${release()})`;
  const { text, interfaces } = btfToTs(vmlinux, {
    types,
    ...(depth !== undefined ? { depth } : {}),
    header: `from ${from}: ${types.join(", ")}${depth !== undefined ? `, --depth ${depth}` : ""}`,
  });
  if (opts.output === undefined || opts.output === "-") process.stdout.write(text);
  else writeFileSync(opts.output, text);
  return { interfaces, bytes: Buffer.byteLength(text) };
}
