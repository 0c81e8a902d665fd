// BTF for tsbpf types, shaped like clang's output for the same C: an INT per C base type,
// the <linux/types.h> typedef over it (__u32 → unsigned int), ARRAYs indexed by
// __ARRAY_SIZE_TYPE__, STRUCTs with member bit offsets. bpftool then prints our structs the
// way it prints a clang-built object's.
import type { BtfBuilder } from "../obj/btf.js";
import { TypeDefinitionError, type Type } from "./type.js";
import type { StructType } from "./struct.js";
import { C_TYPEDEFS, toC } from "./c.js";

/** The BtfBuilder methods toBtf() uses; BtfBuilder itself satisfies it. */
export type BtfSink = Pick<BtfBuilder, "addInt" | "addTypedef" | "addArray" | "addStruct">;

/** C base type → [size, signed] for the INT records. */
const INTS: Record<string, [number, boolean]> = {
  "unsigned char": [1, false],
  "signed char": [1, true],
  "unsigned short": [2, false],
  short: [2, true],
  "unsigned int": [4, false],
  int: [4, true],
  "unsigned long long": [8, false],
  "long long": [8, true],
};

/** What was emitted into one sink, so each type goes in once. */
interface Emitted {
  /** "int:unsigned int", "typedef:__u32", "array:<elem id>:<n>", "struct:<name>" → id */
  ids: Map<string, number>;
  /** struct name → the struct emitted under it, to catch two different structs sharing a name */
  structs: Map<string, StructType>;
}

const emitted = new WeakMap<BtfSink, Emitted>();

/**
 * Emit `type` (and everything it contains) into `sink`; returns its BTF type id. Within one
 * sink each int, typedef, array shape and struct is emitted once: calling again with the same
 * type, or an equal one, returns the same id. Two different structs with one name throw.
 */
export function toBtf(type: Type, sink: BtfSink): number {
  let state = emitted.get(sink);
  if (state === undefined) {
    state = { ids: new Map(), structs: new Map() };
    emitted.set(sink, state);
  }
  return emit(type, sink, state);
}

function once(state: Emitted, key: string, add: () => number): number {
  let id = state.ids.get(key);
  if (id === undefined) {
    id = add();
    state.ids.set(key, id);
  }
  return id;
}

function emitTypedef(name: string, sink: BtfSink, state: Emitted): number {
  return once(state, `typedef:${name}`, () => {
    const base = C_TYPEDEFS[name]!;
    const target =
      base in INTS
        ? once(state, `int:${base}`, () => sink.addInt(base, INTS[base]![0], INTS[base]![1]))
        : emitTypedef(base, sink, state); // __be16 → __u16 → unsigned short
    return sink.addTypedef(name, target);
  });
}

function emit(type: Type, sink: BtfSink, state: Emitted): number {
  switch (type.kind) {
    case "int":
      return emitTypedef(type.cName, sink, state);
    case "array": {
      const elem = emit(type.element, sink, state);
      return once(state, `array:${elem}:${type.length}`, () => sink.addArray(elem, type.length));
    }
    case "struct": {
      const prior = state.structs.get(type.name);
      if (prior !== undefined && prior !== type && toC(prior) !== toC(type)) {
        throw new TypeDefinitionError(
          `toBtf: two different structs are named ${type.name}; BTF needs one definition per name — rename one`,
        );
      }
      state.structs.set(type.name, prior ?? type);
      const key = `struct:${type.name}`;
      const done = state.ids.get(key);
      if (done !== undefined) return done;
      const members = type.fields.map((f) => ({
        name: f.name,
        type: emit(f.type, sink, state),
        bitOffset: f.offset * 8,
      }));
      const id = sink.addStruct(type.name, members, type.size);
      state.ids.set(key, id);
      return id;
    }
  }
}
