// bpf_trace_printk output (tracePrintk, bpf_printk) as a stream of lines, without taking lines
// from anyone else: the kernel emits it as the bpf_trace/bpf_trace_printk trace event (Linux ≥
// 5.10), so a tracefs instance of our own with that event enabled gets its own copy in its own
// buffer, read through the instance's trace_pipe (non-blocking, woken by uv_poll).
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { Poller, PollEvents } from "./poll.js";
import { TracefsError, tracefsRoot } from "./tracefs.js";

const PREFIX = "tsbpf-printk-";

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Instances a killed tsbpf left behind (their pid is gone): removed before making ours. */
function removeStale(instances: string): void {
  let names: string[];
  try {
    names = readdirSync(instances);
  } catch {
    return;
  }
  for (const name of names) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    try {
      rmdirSync(`${instances}/${name}`);
    } catch {
      // another process removed it first, or it is busy: leave it
    }
  }
}

let counter = 0;

/** Lines of bpf_trace_printk output, as `comm-pid [cpu] flags time: bpf_trace_printk: text`. */
export class TracePrintkPipe implements Disposable {
  readonly dir: string;
  #fd: number;
  #poller: Poller | undefined;
  #partial = "";
  readonly #buf = Buffer.alloc(64 * 1024);
  readonly #onLine: (line: string) => void;

  /** Starts collecting; `onLine` gets each complete line. Close it to stop (and remove the instance). */
  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
    const root = tracefsRoot();
    const instances = `${root}/instances`;
    if (!existsSync(`${root}/events/bpf_trace/bpf_trace_printk`))
      throw new TracefsError(
        `this kernel has no bpf_trace/bpf_trace_printk trace event (Linux 5.10 added it): read ${root}/trace_pipe instead`,
      );
    removeStale(instances);
    this.dir = `${instances}/${PREFIX}${process.pid}-${counter++}`;
    try {
      mkdirSync(this.dir);
    } catch (e) {
      throw new TracefsError(
        `cannot create the tracefs instance ${this.dir}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    try {
      writeFileSync(`${this.dir}/events/bpf_trace/bpf_trace_printk/enable`, "1");
      this.#fd = openSync(`${this.dir}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      this.#removeInstance();
      throw new TracefsError(
        `cannot read bpf_trace_printk output through ${this.dir}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    this.#poller = new Poller(this.#fd, PollEvents.READABLE, () => this.#drain(onLine));
  }

  #drain(onLine: (line: string) => void): void {
    for (;;) {
      let n: number;
      try {
        n = readSync(this.#fd, this.#buf, 0, this.#buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") return;
        throw e;
      }
      if (n <= 0) return;
      const text = this.#partial + this.#buf.toString("utf8", 0, n);
      const lines = text.split("\n");
      this.#partial = lines.pop() ?? "";
      for (const l of lines) if (l !== "") onLine(l);
    }
  }

  /** Do not keep the process alive for this pipe alone. */
  unref(): this {
    this.#poller?.unref();
    return this;
  }

  #removeInstance(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // already gone
    }
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#drain(this.#onLine); // what arrived since the last wake-up
    this.#poller?.stop();
    this.#poller = undefined;
    closeSync(this.#fd);
    this.#fd = -1;
    this.#removeInstance();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
