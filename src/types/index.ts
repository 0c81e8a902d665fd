// tsbpf/types — one struct definition for kernel layout, BTF and user-space codecs.
export { u8, u16, u32, u64, i8, i16, i32, i64, be16, be32, ints } from "./int.js";
export type { IntName, IntType } from "./int.js";
export { array, bytes, MAX_TYPE_SIZE } from "./array.js";
export type { ArrayType, ArrayValue } from "./array.js";
export { struct } from "./struct.js";
export type {
  Field,
  Fields,
  StructType,
  StructValue,
  StructView,
  StructViewOptions,
  ViewFields,
  DecodedFields,
} from "./struct.js";
export type { RecordDecoder, RecordSpan } from "./decoder.js";
export { EncodeError, DecodeError, TypeDefinitionError, isType } from "./type.js";
export type { Infer, Type, TypeBase, TypeKind } from "./type.js";
export { identProblem, isCIdentifier, MAX_NAME_LENGTH } from "./ident.js";
export { toC, cDeclarator, C_TYPEDEFS } from "./c.js";
export type { ToCOptions } from "./c.js";
export { toBtf } from "./btf.js";
export type { BtfSink } from "./btf.js";
