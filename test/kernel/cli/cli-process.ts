// A `tsbpf` process under test: its stdout lines as they come, and its exit.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));

export class CliProcess {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #wake: (() => void) | undefined;

  /** `tsbpf ARGS`, inside network namespace `ns` when given, through `wrap` (e.g. setpriv …). */
  constructor(args: string[], ns?: string, wrap: string[] = []) {
    const cmd = [...(ns ? ["ip", "netns", "exec", ns] : []), ...wrap, process.execPath, BIN];
    this.proc = spawn(cmd[0]!, [...cmd.slice(1), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stderr!.on("data", (d) => (this.stderr += String(d)));
    createInterface({ input: this.proc.stdout! }).on("line", (l) => {
      this.lines.push(l);
      this.#wake?.();
    });
    this.exited = new Promise((resolve) =>
      this.proc.once("exit", (code, signal) => {
        this.#wake?.();
        resolve({ code, signal });
      }),
    );
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Waits until some stdout line satisfies `pred` (rejects on exit or after `ms`). */
  async waitFor(pred: (line: string, all: string[]) => boolean, ms = 10_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.lines.find((l) => pred(l, this.lines));
      if (hit !== undefined) return hit;
      if (!this.running)
        throw new Error(`tsbpf exited; stdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`);
      const left = end - Date.now();
      if (left <= 0)
        throw new Error(`timeout; stdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  /** Sends `signal` and waits for the exit; SIGKILLs after 5 s. */
  async stop(
    signal: NodeJS.Signals = "SIGINT",
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }
}

/** The bytes a cargo-bpf hexdump shows (the `|xxxxxxxx …|` groups of each line, in order). */
export function unhexdump(lines: readonly string[]): Buffer {
  const hex = lines.map((l) => /^\|([0-9a-f ]+)\|/.exec(l)?.[1]?.replace(/ /g, "") ?? "").join("");
  return Buffer.from(hex, "hex");
}
