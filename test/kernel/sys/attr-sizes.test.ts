// Every bpf_attr size the syscall layer encodes (src/sys/attr-sizes.ts) against the running
// kernel's `union bpf_attr` in /sys/kernel/btf/vmlinux, read with tsbpf's own BTF parser.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { BtfStruct } from "../../../src/obj/btf.js";
import { ATTR, type AttrSize } from "../../../src/sys/attr-sizes.js";
import { kernelVersion, needsKernel, parseKernelVersion } from "../../support/kernel.js";
import { kernelStruct, memberOf, resolved, vmlinuxBtf } from "../../support/kernel-struct.js";

function before(since: string | undefined): boolean {
  if (since === undefined) return false;
  const [a, b] = kernelVersion();
  const [x, y] = parseKernelVersion(since);
  return a < x || (a === x && b < y);
}

/** The command's struct in `union bpf_attr`. */
function commandStruct(attr: BtfStruct, which: AttrSize["struct"]): BtfStruct | undefined {
  const btf = vmlinuxBtf();
  for (const m of attr.members) {
    const t = resolved(btf, m.type);
    if (t.kind !== "struct") continue;
    if (
      "named" in which
        ? m.name === which.named
        : m.name === "" && t.members.some((x) => x.name === which.has)
    )
      return t;
  }
  return undefined;
}

/** What is wrong with one entry, or undefined. */
function check(cmd: string, a: AttrSize): string | undefined {
  const btf = vmlinuxBtf();
  const attr = kernelStruct(btf, "bpf_attr", "union");
  if (!attr) return "union bpf_attr: not in the kernel's BTF";
  const s = commandStruct(attr, a.struct);
  const which = "named" in a.struct ? a.struct.named : `the struct with ${a.struct.has}`;
  if (!s) return `${cmd}: union bpf_attr has no ${which}`;
  if (a.last === undefined) {
    if (s.size === a.size || (before(a.since) && s.size < a.size)) return undefined;
    return `${cmd}: we encode ${a.size} bytes, sizeof ${which} is ${s.size}`;
  }
  const m = memberOf(btf, s, a.last);
  if (!m)
    return before(a.since)
      ? undefined
      : `${cmd}: ${which} has no member ${a.last} (the table says since ${a.since ?? "6.1"})`;
  const end = m.offset + m.size;
  if (end <= a.size && a.size <= Math.ceil(end / 8) * 8) return undefined;
  return `${cmd}: we encode ${a.size} bytes through ${a.last}, which ends at ${end} in the kernel`;
}

test("every bpf_attr size we encode covers exactly the members we fill in", (t) => {
  if (!needsKernel(t)) return;
  const wrong = Object.entries(ATTR).flatMap(([cmd, a]) => check(cmd, a) ?? []);
  assert.deepEqual(wrong, []);
});

test("the check names the command and member at fault", (t) => {
  if (!needsKernel(t)) return;
  assert.equal(
    check("MAP_CREATE", { size: 72, struct: { has: "map_type" }, last: "btf_key_type_id" }),
    "MAP_CREATE: we encode 72 bytes through btf_key_type_id, which ends at 56 in the kernel",
  );
  assert.equal(
    check("X", { size: 8, struct: { named: "no_such" }, last: "x" }),
    "X: union bpf_attr has no no_such",
  );
});
