// How the CLI reports an error: a TsbpfError (src/errors.ts) or a failed system call as one
// line, a verifier rejection with its log, anything else as a bug of tsbpf with its stack and
// a request for a report. Apart from main.ts so commands (load.ts) and the build server can
// use it without importing the command parser.
import { createRequire } from "node:module";
import { CommanderError } from "commander";
import pc from "picocolors";
import { TsbpfError } from "../errors.js";
import { UsageError } from "./usage-error.js";

const require = createRequire(import.meta.url);
const { bugs } = require("../../../package.json") as { bugs?: string | { url?: string } };

/**
 * Whether `e` is a user error: a TsbpfError (every error class of the library, the compiler
 * and the CLI derives from it: src/errors.ts), or a failed system call reported by Node
 * (`EACCES: permission denied, open '/x'`: the machine's answer, naming the path). Anything
 * else (a plain `Error`, `TypeError`, an `internal:` failure of the compiler, bug()) is a bug
 * of tsbpf: printed with its stack and a request for a report.
 */
export function isUserError(e: unknown): e is Error {
  if (e instanceof TsbpfError) return true;
  if (!(e instanceof Error)) return false;
  const { code, syscall } = e as NodeJS.ErrnoException;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) && typeof syscall === "string";
}

/** Verifier logs of a program that hit the 1M-instruction limit run to a million lines. */
const LOG_LINES = 200;

/** The first and last `max / 2` lines of a log, with a note on what was left out. */
export function clipLog(log: string, max: number): string {
  const lines = log.trimEnd().split("\n");
  if (lines.length <= max) return lines.join("\n");
  const half = Math.floor(max / 2);
  return [
    ...lines.slice(0, half),
    `… ${lines.length - 2 * half} lines left out (set TSBPF_FULL_LOG=1 to print the whole log) …`,
    ...lines.slice(-half),
  ].join("\n");
}

/**
 * The verifier checks a program loaded without CAP_PERFMON as unprivileged ("… prohibited for
 * !root"): that rejection is a missing capability, not a bug in the program.
 */
async function unprivilegedVerifierHint(log: string): Promise<string | undefined> {
  if (!/\bfor !root\b/.test(log)) return undefined;
  const { Cap, missingCaps } = await import("../sys/caps.js");
  const missing = missingCaps([Cap.BPF, Cap.PERFMON]);
  if (missing.length === 0) return undefined;
  return (
    `the verifier treated this process as unprivileged: it lacks ${missing.join(", ")}, ` +
    "without which pointer arithmetic and more are refused; run it as root (sudo), or grant " +
    "CAP_BPF + CAP_PERFMON (see docs/running.md#capabilities)"
  );
}

/** Prints an error the way a user can act on it; verifier logs in full. */
export async function reportError(e: unknown): Promise<number> {
  const { VerifierError } = await import("../load/verifier.js");
  if (e instanceof UsageError) {
    console.error(pc.red(`error: ${e.message}`));
    return e.exitCode;
  }
  if (e instanceof VerifierError) {
    console.error(pc.red(`error: ${e.message.split("\n")[0]}`));
    if (e.source)
      console.error(
        `  at ${e.source.fileName}:${e.source.line}:${e.source.col}: ${e.source.text.trim()}`,
      );
    const hint = await unprivilegedVerifierHint(e.log);
    if (hint) console.error(`  hint: ${hint}`);
    console.error(pc.dim("verifier log:"));
    console.error(clipLog(e.log, process.env.TSBPF_FULL_LOG ? Infinity : LOG_LINES));
    return 1;
  }
  if (e instanceof CommanderError) return e.exitCode; // commander printed it already
  if (isUserError(e)) {
    console.error(pc.red(`error: ${e.message}`));
    if (process.env.TSBPF_DEBUG) console.error(e.stack);
    return 1;
  }
  console.error(pc.red(`internal error: ${String((e as Error | undefined)?.stack ?? e)}`));
  // Only a tracker package.json names: no invented address.
  const tracker = typeof bugs === "string" ? bugs : bugs?.url;
  console.error(
    `please report this${tracker ? ` at ${tracker}` : " to the tsbpf maintainers"}, with the command you ran`,
  );
  return 70;
}
