// Struct and field names end up in C declarations and BTF, where the kernel accepts only C
// identifiers — so they are checked when the struct is defined, not when it is loaded.

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Longest name accepted: older kernels cap BTF names at KSYM_NAME_LEN (128) incl. NUL. */
export const MAX_NAME_LENGTH = 120;

// C11 and C23 keywords: legal identifiers to the regex, but not as names in a declaration.
const KEYWORDS = new Set(
  (
    "auto break case char const continue default do double else enum extern float for goto if " +
    "inline int long register restrict return short signed sizeof static struct switch typedef " +
    "union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic " +
    "_Imaginary _Noreturn _Static_assert _Thread_local alignas alignof bool constexpr false " +
    "nullptr static_assert thread_local true typeof typeof_unqual _BitInt _Decimal32 " +
    "_Decimal64 _Decimal128"
  ).split(" "),
);

/** Why `name` cannot be a C name, or undefined when it can. */
export function identProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return `must be a string, got ${typeof name}`;
  if (name === "") return "must not be empty";
  if (!IDENT.test(name)) {
    return "is not a C identifier (letters, digits and _, not starting with a digit)";
  }
  if (KEYWORDS.has(name)) return "is a C keyword";
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  return undefined;
}

/** Whether `name` can name a struct or field in C and BTF. */
export function isCIdentifier(name: string): boolean {
  return identProblem(name) === undefined;
}
