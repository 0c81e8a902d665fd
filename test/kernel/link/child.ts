// Parent side of attach-child.js: run an attach inside a network namespace in a child process
// that receives the program as its fd 3, and talk to it line by line.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TestProgram } from "./programs.js";

const script = fileURLToPath(new URL("./attach-child.js", import.meta.url));

export interface ChildReply {
  attached?: string;
  linkId?: number | null;
  closed?: boolean;
  error?: string;
  ok?: string;
  sigint?: boolean;
}

export class AttachChild {
  readonly proc: ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiters: ((l: string) => void)[] = [];
  #stderr = "";

  constructor(
    ns: string,
    kind: "xdp" | "tc",
    iface: string,
    prog: TestProgram,
    opts: object = {},
    extraFd?: number,
  ) {
    this.proc = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns,
        process.execPath,
        script,
        kind,
        iface,
        String(prog.type),
        prog.name,
        JSON.stringify(opts),
      ],
      { stdio: ["pipe", "pipe", "pipe", prog.fd, ...(extraFd === undefined ? [] : [extraFd])] },
    );
    this.proc.stderr!.on("data", (d) => (this.#stderr += String(d)));
    createInterface({ input: this.proc.stdout! }).on("line", (l) => {
      const w = this.#waiters.shift();
      if (w) w(l);
      else this.#lines.push(l);
    });
  }

  /** The next JSON line (rejects after `ms` or when the child dies silently). */
  next(ms = 10_000): Promise<ChildReply> {
    const queued = this.#lines.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`child silent for ${ms} ms; stderr: ${this.#stderr}`)),
        ms,
      );
      const onExit = () => reject(new Error(`child exited; stderr: ${this.#stderr}`));
      this.proc.once("exit", onExit);
      this.#waiters.push((l) => {
        clearTimeout(timer);
        this.proc.off("exit", onExit);
        resolve(JSON.parse(l));
      });
    });
  }

  send(line: string): void {
    this.proc.stdin!.write(line + "\n");
  }

  /** Wait until the child has exited on its own; its exit code and signal (SIGKILL after `ms`). */
  async exited(ms = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const done = new Promise((r) => this.proc.once("exit", r));
      const t = setTimeout(() => this.proc.kill("SIGKILL"), ms);
      await done;
      clearTimeout(t);
    }
    return { code: this.proc.exitCode, signal: this.proc.signalCode };
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Ask the child to exit (or kill it) and wait until it has. */
  async stop(signal?: NodeJS.Signals): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const done = new Promise((r) => this.proc.once("exit", r));
    if (signal) this.proc.kill(signal);
    else this.send("exit");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await done;
    clearTimeout(t);
  }
}
