// Parent side of loader-child.js: start it inside a namespace and read its JSON lines.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./loader-child.js", import.meta.url));

export interface LoadedReport {
  programs: { name: string; kind: string; id: number }[];
  maps: Record<string, number>;
  links: string[];
}

export interface ChildEvent {
  map: string;
  size: number;
  hex: string;
  saddr?: number;
  daddr?: number;
  dport?: number;
  payload?: string;
}

export interface ChildLine {
  loaded?: LoadedReport;
  listening?: number;
  event?: ChildEvent;
  error?: string;
}

export class LoaderChild implements AsyncDisposable {
  readonly proc: ChildProcess;
  readonly #lines: ChildLine[] = [];
  readonly #waiters: ((l: ChildLine) => void)[] = [];
  stderr = "";

  constructor(ns: string, config: object) {
    this.proc = spawn(
      "ip",
      ["netns", "exec", ns, process.execPath, script, JSON.stringify(config)],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    this.proc.stderr!.on("data", (d) => (this.stderr += String(d)));
    createInterface({ input: this.proc.stdout! }).on("line", (l) => {
      const parsed = JSON.parse(l) as ChildLine;
      const w = this.#waiters.shift();
      if (w) w(parsed);
      else this.#lines.push(parsed);
    });
  }

  /** The next line, or a rejection after `ms` / when the child exits. */
  next(ms = 10_000): Promise<ChildLine> {
    const queued = this.#lines.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error(`loader child exited; stderr: ${this.stderr}`));
      const timer = setTimeout(() => {
        this.proc.off("exit", onExit);
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`loader child silent for ${ms} ms; stderr: ${this.stderr}`));
      }, ms);
      const waiter = (l: ChildLine) => {
        clearTimeout(timer);
        this.proc.off("exit", onExit);
        resolve(l);
      };
      this.proc.once("exit", onExit);
      this.#waiters.push(waiter);
    });
  }

  /** The loaded report (throws with the child's error when the load failed). */
  async loaded(): Promise<LoadedReport> {
    const l = await this.next();
    if (!l.loaded) throw new Error(`loader child: ${l.error ?? JSON.stringify(l)} ${this.stderr}`);
    return l.loaded;
  }

  /** Ask the child to close everything and exit; kill it if it does not within 5 s. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    const done = new Promise<number | null>((r) => this.proc.once("exit", (code) => r(code)));
    this.proc.stdin!.end("exit\n");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    const code = await done;
    clearTimeout(t);
    return code;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
