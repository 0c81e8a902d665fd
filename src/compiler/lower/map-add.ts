// `m.add(key, n)`: an atomic add to a scalar map value, the C idiom
//   v = bpf_map_lookup_elem(&m, &k);
//   if (v) __sync_fetch_and_add(v, n);                        // lock xadd
//   else if (bpf_map_update_elem(&m, &k, &n, BPF_NOEXIST) == -EEXIST
//            && (v = bpf_map_lookup_elem(&m, &k))) __sync_fetch_and_add(v, n);
// A missing key of a hash map is inserted with the value n (another CPU inserting it at the
// same time is caught by BPF_NOEXIST and the add retried), so `counts.add(ip, 1n)` counts
// from zero. Result: 0, or the insert's negative errno (-E2BIG when the map is full); an
// array map index past maxEntries gives -ENOENT.
import type ts from "typescript";
import { Code, CompileError } from "../errors.js";
import { imm, reg, type Operand } from "../ir/ir.js";
import type { MapDecl } from "../module/scan.js";
import type { LowerHost } from "./host.js";
import type { Value } from "./values.js";

const BPF_NOEXIST = 1;
const EEXIST = 17;
const ENOENT = 2;
const LOOKUP = 1;
const UPDATE = 2;

export interface MapAddParts {
  key: Operand;
  value: Operand;
  delta: Operand;
  fd: () => Operand;
  call: (helper: number, args: Operand[]) => Value;
}

/** Check that `m` holds 4- or 8-byte integers (what `lock xadd` adds to). */
export function checkMapAdd(m: MapDecl, e: ts.CallExpression): void {
  const t = m.value;
  if (
    t?.kind !== "int" ||
    (t.size !== 4 && t.size !== 8) ||
    t.byteOrder !== "little" ||
    m.cls === "LpmTrieMap"
  )
    throw CompileError.at(
      e,
      Code.BadApi,
      `${m.name}.add(): the map's values must be u32/i32/u64/i64 (an atomic add); for a struct field write atomicAdd(ref, "field", n) on a lookup`,
    );
}

export function lowerMapAdd(lw: LowerHost, m: MapDecl, p: MapAddParts): Value {
  const size = m.value!.size as 4 | 8;
  const isArray = m.cls === "ArrayMap" || m.cls === "PerCpuArrayMap";
  const res = lw.vreg();
  const done = lw.newBlock();
  const xadd = (ptr: Operand) => {
    if (ptr.kind !== "reg") throw new Error("internal: lookup result is not a register");
    lw.emit({ op: "atomicAdd", base: { kind: "reg", id: ptr.id }, off: 0, size, value: p.delta });
    lw.emit({ op: "mov", dst: res, src: imm(0) });
    lw.jump(done);
  };
  const result = (v: Value): Operand => {
    if (v.k !== "int") throw new Error("internal: helper without a result");
    return v.op;
  };
  const lookup = (missing: () => void) => {
    const v = result(p.call(LOOKUP, [p.fd(), p.key]));
    const yes = lw.newBlock();
    const no = lw.newBlock();
    lw.branch("ne", v, imm(0), yes, no);
    lw.switchTo(yes);
    xadd(v);
    lw.switchTo(no);
    missing();
  };
  lookup(() => {
    if (isArray) {
      lw.emit({ op: "mov", dst: res, src: imm(-ENOENT) });
      lw.jump(done);
      return;
    }
    const r = result(p.call(UPDATE, [p.fd(), p.key, p.value, imm(BPF_NOEXIST)]));
    const raced = lw.newBlock();
    const other = lw.newBlock();
    lw.branch("eq", r, imm(-EEXIST), raced, other);
    lw.switchTo(other);
    lw.emit({ op: "mov", dst: res, src: r });
    lw.jump(done);
    lw.switchTo(raced);
    // another CPU inserted the key between the lookup and the insert: add to its value
    lookup(() => {
      lw.emit({ op: "mov", dst: res, src: imm(-EEXIST) });
      lw.jump(done);
    });
  });
  lw.switchTo(done);
  return { k: "int", op: reg(res) };
}
