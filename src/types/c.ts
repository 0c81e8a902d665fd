// C rendering of a type: the declaration a C programmer would write for the same layout, used
// in docs, by `tsbpf new`, and by tests that have clang check our layout.
import { TypeDefinitionError, type Type } from "./type.js";
import type { StructType } from "./struct.js";

export interface ToCOptions {
  /**
   * Prepend typedefs for the `__u32`-style names used, so the text compiles on its own.
   * They match <linux/types.h>, so including that header as well is harmless.
   */
  typedefs?: boolean;
  /** Append `/* offset N, size M *\/` to each field, pahole-style. */
  offsets?: boolean;
}

/** The <linux/types.h> names int types are declared with → what each is a typedef of. */
export const C_TYPEDEFS: Readonly<Record<string, string>> = Object.freeze({
  __u8: "unsigned char",
  __s8: "signed char",
  __u16: "unsigned short",
  __s16: "short",
  __u32: "unsigned int",
  __s32: "int",
  __u64: "unsigned long long",
  __s64: "long long",
  __be16: "__u16",
  __be32: "__u32",
});

/** `type name` as a C declarator: `__u8 data[16]`, `struct Inner in`. */
export function cDeclarator(type: Type, name: string): string {
  let dims = "";
  let t: Type = type;
  while (t.kind === "array") {
    dims += `[${t.length}]`;
    t = t.element;
  }
  const base = t.kind === "int" ? t.cName : `struct ${t.name}`;
  return `${base} ${name}${dims}`;
}

/**
 * The C declarations for a struct: nested structs first (each once), then the struct itself.
 *
 * ```c
 * struct RequestInfo {
 *     __u32 saddr;
 *     …
 * };
 * ```
 */
export function toC(type: StructType, options: ToCOptions = {}): string {
  const structs: StructType[] = [];
  const ints = new Set<string>();
  collect(type, structs, new Set(), ints);
  const parts: string[] = [];
  if (options.typedefs === true) {
    // __be16 refers to __u16, so it needs __u16 declared first.
    if (ints.has("__be16")) ints.add("__u16");
    if (ints.has("__be32")) ints.add("__u32");
    const lines = Object.keys(C_TYPEDEFS)
      .filter((n) => ints.has(n))
      .map((n) => `typedef ${C_TYPEDEFS[n]} ${n};`);
    parts.push(lines.join("\n"));
  }
  for (const s of structs) parts.push(declare(s, options.offsets === true));
  return parts.join("\n\n") + "\n";
}

function declare(s: StructType, offsets: boolean): string {
  const lines = s.fields.map((f) => {
    const decl = `\t${cDeclarator(f.type, f.name)};`;
    return offsets ? `${decl} /* offset ${f.offset}, size ${f.type.size} */` : decl;
  });
  const tail = offsets ? ` /* size ${s.size}, align ${s.align} */` : "";
  return `struct ${s.name} {\n${lines.join("\n")}\n};${tail}`;
}

/** Structs in dependency order (a struct after everything it contains). */
function collect(t: Type, out: StructType[], seen: Set<Type>, ints: Set<string>): void {
  switch (t.kind) {
    case "int":
      ints.add(t.cName);
      return;
    case "array":
      collect(t.element, out, seen, ints);
      return;
    case "struct": {
      if (seen.has(t)) return;
      seen.add(t);
      for (const f of t.fields) collect(f.type, out, seen, ints);
      const clash = out.find((o) => o.name === t.name);
      // An equal definition under the same name is the same C type: declare it once.
      if (clash !== undefined && declare(clash, false) === declare(t, false)) return;
      if (clash !== undefined) {
        throw new TypeDefinitionError(
          `toC: two different structs are named ${t.name}; C needs one definition per name — rename one`,
        );
      }
      out.push(t);
    }
  }
}
