// The kernel verifier's rejection, made readable.
//
// When BTF line info is passed with BPF_PROG_LOAD the kernel itself prints `; <source line>`
// comments above the instructions in its log, so probe source lines appear inline for free.
// What this module adds: the one-line reason (the log's last meaningful line), the failing
// instruction, and the nearest source line from the object's line info, so the error message
// is useful even before anyone reads the full log.

import { TsbpfError } from "../errors.js";

export interface SourceLine {
  /** instruction index (slot) the line starts at */
  insn: number;
  fileName: string;
  line: number;
  col: number;
  text: string;
}

export class VerifierError extends TsbpfError {
  override readonly name = "VerifierError";
  /** the full verifier log (level 1 on failure, or what was requested) */
  readonly log: string;
  /** the program the verifier rejected */
  readonly program: string;
  /** errno of BPF_PROG_LOAD (usually EACCES or EINVAL) */
  readonly errno: number;
  /** the instruction the verifier stopped at, when the log says */
  readonly insn: number | undefined;
  /** the probe source line of that instruction, when line info is present */
  readonly source: SourceLine | undefined;

  constructor(program: string, errno: number, log: string, lineInfo: readonly SourceLine[] = []) {
    const reason = summarize(log);
    const insn = failingInsn(log);
    const s = insn === undefined ? undefined : sourceFor(insn, lineInfo);
    const source: SourceLine | undefined = s && {
      insn: s.insn,
      fileName: s.fileName,
      line: s.line,
      col: s.col,
      text: s.text,
    };
    const where = source
      ? `\n  at ${source.fileName}:${source.line}:${source.col}: ${source.text.trim()}`
      : "";
    super(
      `the kernel verifier rejected program ${program}: ${reason}${where}\n` +
        `(full verifier log in error.log; ${log.split("\n").length} lines)`,
    );
    this.program = program;
    this.errno = errno;
    this.log = log;
    this.insn = insn;
    this.source = source;
  }

  /** The log with `>` marking the failing instruction's line, for printing to a terminal. */
  pretty(): string {
    const log = this.log.trimEnd();
    if (this.insn === undefined) return log;
    const lines = log.split("\n");
    const at = lines.findLastIndex((l) => l.startsWith(`${this.insn}: (`));
    if (at >= 0) lines[at] = `> ${lines[at]}`;
    return lines.join("\n");
  }
}

const isStats = (l: string): boolean =>
  /^processed \d+ insns/.test(l) ||
  /^verification time/.test(l) ||
  /^stack depth/.test(l) ||
  /^-- END PROG LOAD LOG --/.test(l);

/**
 * The reason: the lines after the last instruction the verifier printed (e.g. "invalid access
 * to packet, off=12 size=1, …; R1 offset is outside of the packet"), else the last line that
 * is not a statistic.
 */
export function summarize(log: string): string {
  const lines = log
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  let lastInsn = -1;
  lines.forEach((l, i) => {
    if (/^\d+: \([0-9a-f]{2}\)/.test(l)) lastInsn = i;
  });
  if (lastInsn >= 0) {
    const after = lines.slice(lastInsn + 1).filter((l) => !isStats(l) && !l.startsWith(";"));
    if (after.length > 0) return after.join("; ");
  }
  for (let i = lines.length - 1; i >= 0; i--) if (!isStats(lines[i]!)) return lines[i]!;
  return "no verifier log (the kernel gave no reason; try log level 2)";
}

/** The index of the last instruction the log printed before the reason. */
export function failingInsn(log: string): number | undefined {
  let last: number | undefined;
  for (const m of log.matchAll(/^(\d+): \([0-9a-f]{2}\)/gm)) last = Number(m[1]);
  return last;
}

/** The line-info entry covering `insn`: the one with the greatest start ≤ insn. */
export function sourceFor(insn: number, lineInfo: readonly SourceLine[]): SourceLine | undefined {
  let best: SourceLine | undefined;
  for (const li of lineInfo) if (li.insn <= insn && (!best || li.insn >= best.insn)) best = li;
  return best;
}
