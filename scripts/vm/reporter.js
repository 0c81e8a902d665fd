// node:test reporter that writes one JSON line per finished test, for machines to read:
//   {"type":"test","file":"dist/test/kernel/x.test.js","name":"a > b","status":"pass"|"fail"|"skip"|"todo",
//    "ms":12.3,"reason":"skip reason or first line of the error"}
// The VM runner points it at the guest's second serial port; the host run at a file.
import { relative } from "node:path";

// The first lines of a message, joined (assertion diffs put the values on lines 2-4).
const lines = (s, n) =>
  String(s)
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, n)
    .join(" ");

function errorText(error) {
  // node:test wraps the test's error as `cause` of an ERR_TEST_FAILURE
  const e = error?.cause ?? error;
  if (e === undefined || e === null) return "";
  return lines(e.message ?? e, 4).slice(0, 400);
}

export default async function* jsonReporter(source) {
  const stack = []; // names of the tests currently open, by nesting level, per file
  const hasChildren = new Set();
  for await (const event of source) {
    const d = event.data ?? {};
    if (event.type === "test:start") {
      stack[d.nesting] = d.name;
      stack.length = d.nesting + 1;
      continue;
    }
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const file = d.file ? relative(process.cwd(), d.file) : "";
    const path = [...stack.slice(0, d.nesting), d.name].join(" > ");
    const key = `${file}\0${path}`;
    // Only leaves are tests; a suite (or the file's own wrapper) reports its children's result.
    // A parent that fails on its own (hook error, crash of the file) is kept.
    if (hasChildren.has(key) && event.type === "test:pass") continue;
    const parent = `${file}\0${stack.slice(0, d.nesting).join(" > ")}`;
    if (d.nesting > 0) hasChildren.add(parent);
    const status =
      d.skip !== undefined
        ? "skip"
        : d.todo !== undefined
          ? "todo"
          : event.type === "test:pass"
            ? "pass"
            : "fail";
    const reason =
      status === "skip"
        ? typeof d.skip === "string"
          ? d.skip
          : ""
        : status === "fail"
          ? errorText(d.details?.error)
          : "";
    yield (
      JSON.stringify({
        type: "test",
        file,
        name: path,
        status,
        ms: Math.round((d.details?.duration_ms ?? 0) * 10) / 10,
        ...(reason && { reason }),
      }) + "\n"
    );
  }
}
