// Memory layout questions lowering asks of a type when it writes one to the stack or a map:
// a helper reads every byte, so bytes no field covers must be zeroed too.
import type { Type } from "../../types/index.js";

/** Byte ranges of `t` that belong to no field (struct padding, nested too). */
export function padding(t: Type, at = 0): [number, number][] {
  if (t.kind !== "struct") return [];
  const out: [number, number][] = [];
  let end = at;
  for (const f of t.fields) {
    if (at + f.offset > end) out.push([end, at + f.offset]);
    out.push(...padding(f.type, at + f.offset));
    end = at + f.offset + f.type.size;
  }
  if (at + t.size > end) out.push([end, at + t.size]);
  return out;
}
