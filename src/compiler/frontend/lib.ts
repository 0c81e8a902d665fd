// The minimal standard library probes are type-checked against (`noLib: true`). The default
// lib costs over a second and a hundred megabytes per build and describes a runtime the kernel
// does not have; this declares only what the checker needs plus what probe code may use.

export const LIB_FILE_NAME = "/__tsbpf__/lib.probe.d.ts";

export const LIB_SOURCE = `
interface Object {}
interface Function {}
interface CallableFunction extends Function {}
interface NewableFunction extends Function {}
interface IArguments { readonly length: number; }
interface Boolean {}
interface Number {}
interface BigInt {}
interface String { readonly length: number; }
interface RegExp {}
interface Symbol {}
interface Array<T> { readonly length: number; [n: number]: T; }
interface ReadonlyArray<T> { readonly length: number; readonly [n: number]: T; }
interface ArrayLike<T> { readonly length: number; readonly [n: number]: T; }
interface TemplateStringsArray extends ReadonlyArray<string> { readonly raw: readonly string[]; }
interface PromiseLike<T> { then(f: (v: T) => unknown): unknown; }
interface Promise<T> { then(f: (v: T) => unknown): unknown; }
// No byteLength: an array literal (\`pad: [0, 0, 0]\`) must be assignable to an array() field.
interface Uint8Array { readonly length: number; [n: number]: number; }
declare var Uint8Array: { new (length: number): Uint8Array };
interface Int8Array { readonly length: number; [n: number]: number; }
interface DataView { readonly byteLength: number; }
interface ArrayBuffer { readonly byteLength: number; }
interface Error { message: string; }
interface ErrorConstructor { new (message?: string): Error; }
declare var Error: ErrorConstructor;
interface SymbolConstructor { readonly iterator: unique symbol; }
declare var Symbol: SymbolConstructor;
interface IterableIterator<T> {}
// Builtins probe code may call (lower/builtins.ts gives them their 64-bit meaning).
interface Math {
  /** the smallest argument (signed 64-bit order) */
  min(...values: number[]): number;
  /** the largest argument (signed 64-bit order) */
  max(...values: number[]): number;
  // Declared so that a call type-checks and gets tsbpf's own diagnostic (what to write).
  abs(x: number): number;
  sign(x: number): number;
  floor(x: number): number;
  ceil(x: number): number;
  round(x: number): number;
  trunc(x: number): number;
  sqrt(x: number): number;
  pow(x: number, y: number): number;
  log2(x: number): number;
  random(): number;
}
declare var Math: Math;
interface NumberConstructor { (value: number | bigint | boolean): number; }
declare var Number: NumberConstructor;
interface BigIntConstructor { (value: number | bigint | boolean): bigint; }
declare var BigInt: BigIntConstructor;
type Partial<T> = { [P in keyof T]?: T[P] };
type Required<T> = { [P in keyof T]-?: T[P] };
type Readonly<T> = { readonly [P in keyof T]: T[P] };
type Pick<T, K extends keyof T> = { [P in K]: T[P] };
type Record<K extends keyof any, T> = { [P in K]: T };
type Exclude<T, U> = T extends U ? never : T;
type Extract<T, U> = T extends U ? T : never;
type Omit<T, K extends keyof any> = Pick<T, Exclude<keyof T, K>>;
type NonNullable<T> = T & {};
type ReturnType<T extends (...args: any) => any> = T extends (...args: any) => infer R ? R : any;
`;
