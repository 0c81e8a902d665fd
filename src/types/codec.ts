/**
 * A fixed-size binary encoding of values of type `T` — the contract between typed maps,
 * event readers and the `tsbpf/types` definitions that implement it.
 *
 * `size` is the encoded size in bytes. `encode` writes into `out` when given (it must hold at
 * least `size` bytes) and returns the bytes written; `decode` reads the first `size` bytes.
 */
export interface Codec<T> {
  size: number;
  encode(v: T, out?: Uint8Array): Uint8Array;
  decode(bytes: Uint8Array): T;
}
