// Number literals read exactly. JavaScript rounds a literal above 2^53 to the nearest double
// (`0xffffffffffffffff` is 2^64, which wraps to 0 in a 64-bit register); in a probe every
// number is a 64-bit integer, so such a literal keeps its exact value (as a bigint inside the
// compiler) when it fits in 64 bits, and is an error when it does not.
import ts from "typescript";
import { Code, CompileError } from "../errors.js";

const MAX_U64 = (1n << 64n) - 1n;

/**
 * The value of a numeric literal: a number when JavaScript represents it exactly (every integer
 * up to 2^53 and every fraction, reported later as floating point), else the exact integer as
 * a bigint. An integer literal above 2^64 - 1 is an error.
 */
export function numericLiteral(e: ts.NumericLiteral): number | bigint {
  const n = Number(e.text);
  if (Number.isSafeInteger(n) || !Number.isFinite(n)) return n;
  const exact = exactInteger(e.getText().replace(/_/g, ""));
  if (exact === undefined) return n; // a fraction: floating point, reported where it is used
  if (exact <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(exact);
  if (exact > MAX_U64)
    throw CompileError.at(
      e,
      Code.Unsupported,
      `${e.getText()} does not fit in 64 bits (the largest value is 0xffffffffffffffff); every probe value is a 64-bit integer`,
    );
  return exact;
}

/** The exact integer a literal's source text denotes, or undefined when it is a fraction. */
export function exactInteger(text: string): bigint | undefined {
  if (/^0[xXoObB]/.test(text)) return BigInt(text);
  if (/^0[0-7]+$/.test(text)) return BigInt("0o" + text.slice(1)); // legacy octal
  const m = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  const digits = (m[1] ?? "") + (m[2] ?? "");
  const exp = Number(m[3] ?? 0) - (m[2] ?? "").length;
  const mant = BigInt(digits === "" ? "0" : digits);
  if (exp >= 0) return mant * 10n ** BigInt(exp);
  const div = 10n ** BigInt(-exp);
  return mant % div === 0n ? mant / div : undefined;
}
