// The program-kind table's read/write rules (src/obj/program-kinds.ts `noRead` / `write`) against
// the verifier: for every kind a context struct records access for, a one-load (or one-store)
// program per member must load exactly when the table says the kind may read (write) it.
// The rules are recorded as of Linux 6.18; on other kernels only the members probes read
// (`probe` names: what the compiler emits loads for) are checked.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CONTEXTS,
  KINDS,
  PT_REGS,
  SECTIONS,
  type Arch,
  type ContextStruct,
  type ProgramKind,
} from "../../../src/obj/program-kinds.js";
import { BPF_B, BPF_DW, BPF_H, BPF_W, asm, encodeInsns, type Insn } from "../../../src/obj/insn.js";
import { ProgType } from "../../../src/obj/consts.js";
import { progLoad } from "../../../src/sys/bpf.js";
import { SysError } from "../../../src/sys/errors.js";
import { kernelVersion, needsKernel } from "../../support/kernel.js";

const SIZE: Record<number, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

/** Whether the verifier accepts `body` (then `r0 = 0; exit`) as a `kind` program. */
function loads(kind: ProgramKind, body: Insn[]): boolean {
  const info = KINDS[kind] as { progType: number; expectedAttachType?: number };
  const row = SECTIONS.find((r) => r.kind === kind)!;
  // the kind's own expected attach type, else its first section's (cgroup_skb/ingress…)
  const attach = info.expectedAttachType ?? row.attach;
  try {
    const { fd } = progLoad({
      type: info.progType,
      insns: encodeInsns([...body, asm.mov64Imm(0, 0), asm.exit()]),
      license: "GPL",
      name: "ctx_access",
      ...(attach !== undefined && { expectedAttachType: attach }),
    });
    fd.close();
    return true;
  } catch (e) {
    if (e instanceof SysError && e.code === "EACCES") return false;
    throw e;
  }
}

function differences(s: ContextStruct, onlyProbeFields: boolean): string[] {
  const out: string[] = [];
  for (const kind of s.accessFor) {
    // tracing and LSM programs need an attach target (a BTF id) to load at all
    if (KINDS[kind].progType === ProgType.TRACING || KINDS[kind].progType === ProgType.LSM)
      continue;
    for (const f of s.fields) {
      if (onlyProbeFields && f.probe === undefined) continue;
      const size = f.elem ?? f.size;
      const op = SIZE[size];
      if (op === undefined) continue; // no single load reads it (arrays: their first element)
      const where = `${s.name}.${f.name} in a ${kind} program`;
      const read = loads(kind, [asm.ldx(op, 0, 1, f.offset)]);
      const mayRead = !(f.noRead ?? []).includes(kind);
      if (read !== mayRead)
        out.push(
          `${where}: the verifier ${read ? "lets it be read" : "refuses reading it"}, the table says ${mayRead ? "readable" : "not readable"}`,
        );
      if (onlyProbeFields) continue;
      const wrote = loads(kind, [asm.mov64Imm(2, 0), asm.stx(op, 1, 2, f.offset)]);
      const mayWrite = (f.write ?? []).includes(kind);
      if (wrote !== mayWrite)
        out.push(
          `${where}: the verifier ${wrote ? "lets it be written" : "refuses writing it"}, the table says ${mayWrite ? "writable" : "not writable"}`,
        );
    }
  }
  return out;
}

const [maj, min] = kernelVersion();
const tableKernel = maj === 6 && min === 18;

const structs: ContextStruct[] = [
  ...(Object.values(CONTEXTS) as ContextStruct[]),
  ...(process.arch in PT_REGS ? [PT_REGS[process.arch as Arch] as ContextStruct] : []),
].filter((s) => s.accessFor.length > 0);

for (const s of structs) {
  test(`${s.name}: the verifier's read/write rules are the table's (${s.accessFor.join(", ")})`, (t) => {
    if (!needsKernel(t)) return;
    assert.deepEqual(differences(s, !tableKernel), []);
  });
}
