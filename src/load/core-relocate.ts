// CO-RE for the loader: resolve an object's `.BTF.ext` core_relo records against the kernel's
// BTF (or a BTF file), patch each program's instructions, and turn a verifier rejection of a
// poisoned instruction into an error that names the program, the source line and the field.
// The logic is pure and lives in src/obj/core.ts; this file picks the targets and reports.
import type { CoreRelo } from "../obj/btf-ext.js";
import {
  CoreRelocationError,
  CoreResolver,
  describeRelo,
  patchInsn,
  type CoreResult,
} from "../obj/core.js";
import { linkedParts, type BpfObject, type LinkedParts, type ProgramSpec } from "../obj/object.js";
import type { Insn } from "../obj/insn.js";
import { coreTargets } from "./kernel-btf.js";
import { sourceFor, VerifierError } from "./verifier.js";
import { bug } from "../bug.js";

export { CoreRelocationError } from "../obj/core.js";

/** Resolved values of every relocation the given programs use (one entry per record). */
export type CoreResults = ReadonlyMap<CoreRelo, CoreResult>;

const where = (parts: Pick<LinkedParts, "lineInfo">, insn: number): string => {
  const s = sourceFor(insn, parts.lineInfo);
  return s ? ` at ${s.fileName}:${s.line}:${s.col}: ${s.text.trim()}` : "";
};

/**
 * Resolve the CO-RE relocations of `programs`, in the object's record order (libbpf's order,
 * which its candidate pruning depends on). Nothing is read from the kernel when no program
 * has relocations. Throws CoreRelocationError naming the program and source line.
 */
export function resolveCore(
  object: BpfObject,
  programs: readonly ProgramSpec[],
  btfPath: string | undefined,
): CoreResults {
  const results = new Map<CoreRelo, CoreResult>();
  const user = new Map<CoreRelo, { spec: ProgramSpec; insn: number }>();
  // Each program's relocations from a link made for this walk only (not kept in the spec).
  for (const p of programs)
    for (const r of linkedParts(p).coreRelos)
      if (!user.has(r.relo)) user.set(r.relo, { spec: p, insn: r.insn });
  if (user.size === 0 || !object.btf || !object.btfExt) return results;
  const resolver = new CoreResolver(object.btf, coreTargets(btfPath));
  for (const [section, relos] of object.btfExt.coreRelos)
    for (const relo of relos) {
      const u = user.get(relo);
      if (!u) continue;
      try {
        results.set(relo, resolver.resolve(relo));
      } catch (e) {
        if (!(e instanceof CoreRelocationError)) throw e;
        e.program = u.spec.name;
        e.insn = u.insn;
        e.message =
          `program ${u.spec.name} (section ${section}): CO-RE relocation at instruction ${u.insn}` +
          `${where(linkedParts(u.spec), u.insn)} cannot be applied: ${e.message}`;
        throw e;
      }
    }
  return results;
}

/**
 * Patch `insns` (a copy of `parts.insns`, the program's linked instructions) with the resolved
 * values. Returns the poisoned instructions (index → relocation) for `coreVerifierError`.
 */
export function applyCore(
  spec: ProgramSpec,
  parts: LinkedParts,
  insns: Insn[],
  results: CoreResults,
): Map<number, { relo: CoreRelo; result: CoreResult }> {
  const poisoned = new Map<number, { relo: CoreRelo; result: CoreResult }>();
  for (const { insn, relo } of parts.coreRelos) {
    const result = results.get(relo);
    if (!result) throw bug(`program ${spec.name}: CO-RE relocation at ${insn} was not resolved`);
    try {
      if (patchInsn(insns, insn, result) === "poisoned") poisoned.set(insn, { relo, result });
    } catch (e) {
      if (!(e instanceof CoreRelocationError)) throw e;
      e.program = spec.name;
      e.insn = insn;
      e.message = `program ${spec.name}: CO-RE relocation ${describeRelo(relo, result)}${where(parts, insn)}: ${e.message}`;
      throw e;
    }
  }
  return poisoned;
}

/**
 * When the verifier stopped at a poisoned instruction (`call 0xbad2310`, reached because no
 * guard made it dead code), the error that says which field of which type is missing.
 */
export function coreVerifierError(
  e: VerifierError,
  spec: ProgramSpec,
  parts: Pick<LinkedParts, "lineInfo">,
  poisoned: ReadonlyMap<number, { relo: CoreRelo; result: CoreResult }>,
): CoreRelocationError | undefined {
  const hit = e.insn === undefined ? undefined : poisoned.get(e.insn);
  if (!hit) return undefined;
  const err = new CoreRelocationError(
    `program ${spec.name}: instruction ${e.insn}${where(parts, e.insn!)} needs ` +
      `${describeRelo(hit.relo, hit.result)}, which the target kernel cannot satisfy: ` +
      `${hit.result.poisonReason ?? "no matching type"}. libbpf's rule applies: the instruction ` +
      `was replaced by an invalid call and the verifier reached it. Guard the access with ` +
      `bpf_core_field_exists()/bpf_core_type_exists()/bpf_core_enum_value_exists() (or a ` +
      `___flavour of the type that matches this kernel), or give the kernel's BTF with btfPath / --btf.`,
    { program: spec.name, insn: e.insn! },
  );
  (err as { cause?: unknown }).cause = e;
  return err;
}
