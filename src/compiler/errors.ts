// Compile errors point at the probe source: file:line:col, a stable code, and what to do.
import ts from "typescript";
import { TsbpfError } from "../errors.js";

/** Diagnostic codes, stable across releases (TSBPF + 4 digits, like tsc's TS codes). */
export const Code = {
  /** TypeScript reported a type error in the probe */
  TypeError: 1000,
  /** the construct exists in TypeScript but has no eBPF meaning */
  Unsupported: 1001,
  /** a value could not be computed at compile time where it must be */
  NotConstant: 1002,
  /** loop without a provable constant bound */
  UnboundedLoop: 1003,
  /** stack frame larger than 512 bytes */
  StackTooLarge: 1004,
  /** floating point value */
  Float: 1005,
  /** bad use of a tsbpf/probe API (wrong kind of argument, missing map name…) */
  BadApi: 1006,
  /** missing or invalid top-level declarations (no program, no license…) */
  Module: 1007,
  /** program too large or a limit of the target exceeded */
  Limit: 1008,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

export class CompileError extends TsbpfError {
  override readonly name = "CompileError";
  constructor(
    readonly code: Code,
    message: string,
    /** probe file path */
    readonly file: string,
    /** 1-based */
    readonly line: number,
    /** 1-based */
    readonly col: number,
  ) {
    super(message);
  }

  /** `file:line:col - error TSBPFnnnn: message`, as tsc prints its errors. */
  format(): string {
    return formatDiagnostic(this);
  }

  static at(node: ts.Node, code: Code, message: string): CompileError {
    const sf = node.getSourceFile();
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    return new CompileError(code, message, sf.fileName, line + 1, character + 1);
  }
}

export interface Diagnostic {
  code: number;
  message: string;
  file: string;
  line: number;
  col: number;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col} - error TSBPF${String(d.code).padStart(4, "0")}: ${d.message}`;
}

/** A TypeScript diagnostic as a CompileError (code TSBPF1000, message keeps tsc's TSnnnn). */
export function fromTsDiagnostic(d: ts.Diagnostic): CompileError {
  const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return new CompileError(
      Code.TypeError,
      `TS${d.code}: ${text}`,
      d.file.fileName,
      line + 1,
      character + 1,
    );
  }
  return new CompileError(Code.TypeError, `TS${d.code}: ${text}`, "<options>", 1, 1);
}
