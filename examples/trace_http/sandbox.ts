// Two private network namespaces joined by a veth pair, and processes running in them: the
// stage of `make demo` and of its end-to-end test (test/kernel/e2e/trace-http.test.ts).
//
//   client ns  veth-cli 10.200.0.2 fd00:200::2  <──veth──>  veth-srv 10.200.0.1 fd00:200::1  server ns
//
// The addresses exist only inside the namespaces, so no traffic can leave them. close()
// stops every process started here and deletes both namespaces (which deletes the veth pair
// and anything attached to it); it also runs when the process exits.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Traffic } from "./client.js";

export interface Side {
  /** network namespace name */
  ns: string;
  /** its end of the veth pair */
  iface: string;
  v4: string;
  v6: string;
}

const CLIENT_JS = fileURLToPath(new URL("./client.js", import.meta.url));

let counter = 0;

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(cmd: string, args: string[], timeoutMs = 20_000): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${r.error?.message ?? `status ${r.status}`}): ${r.stderr.trim()}`,
    );
  return r.stdout;
}

/** A process started in a namespace: its output as lines, waits, and a clean stop. */
export class NsProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  /** resolves with the exit code (128 + n when killed by signal n) */
  readonly exited: Promise<number>;
  readonly #child: ChildProcess;
  #waiters: (() => void)[] = [];
  #code: number | undefined;

  constructor(
    ns: string,
    argv: string[],
    onLine?: (line: string, stream: "out" | "err") => void,
    input?: string,
  ) {
    this.#child = spawn("ip", ["netns", "exec", ns, ...argv], {
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    this.#child.stdin?.end(input);
    const split = (stream: NodeJS.ReadableStream, into: string[], tag: "out" | "err") => {
      let buf = "";
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          into.push(line);
          onLine?.(line, tag);
        }
        this.#wake();
      });
    };
    split(this.#child.stdout!, this.stdout, "out");
    split(this.#child.stderr!, this.stderr, "err");
    this.exited = new Promise((resolve) =>
      this.#child.once("close", (code, signal) => {
        const signals: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
        this.#code = code ?? 128 + (signals[signal ?? ""] ?? 0);
        this.#wake();
        resolve(this.#code);
      }),
    );
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#code === undefined;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves when `done()` holds (checked on each output and at exit); rejects after `ms`. */
  async until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (!this.running)
        throw new Error(
          `${what}: the process exited (${this.#code}); stderr: ${this.stderr.join("\n")}`,
        );
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: timed out after ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for a stdout line matching `re`. */
  async waitFor(re: RegExp, ms = 10_000): Promise<string> {
    await this.until(() => this.stdout.some((l) => re.test(l)), `waiting for ${re}`, ms);
    return this.stdout.find((l) => re.test(l))!;
  }

  /** Stops (SIGSTOP) or resumes (SIGCONT) the process: a paused reader lets its rings fill. */
  pause(paused: boolean): void {
    if (this.running) this.#child.kill(paused ? "SIGSTOP" : "SIGCONT");
  }

  /** Sends `signal` and waits for the exit code. */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number> {
    if (this.running) this.#child.kill(signal);
    return this.exited;
  }
}

export class Sandbox implements Disposable {
  readonly server: Side;
  readonly client: Side;
  readonly #procs: NsProcess[] = [];
  #closed = false;
  readonly #onExit = () => this.close();

  private constructor(server: Side, client: Side) {
    this.server = server;
    this.client = client;
  }

  /** Creates the namespaces; names carry `tag` (default: pid and a counter) to be unique. */
  static create(tag = `${process.pid}-${counter++}`): Sandbox {
    const sb = new Sandbox(
      { ns: `tsbpf-srv-${tag}`, iface: "veth-srv", v4: "10.200.0.1", v6: "fd00:200::1" },
      { ns: `tsbpf-cli-${tag}`, iface: "veth-cli", v4: "10.200.0.2", v6: "fd00:200::2" },
    );
    process.once("exit", sb.#onExit);
    try {
      const { server: s, client: c } = sb;
      run("ip", ["netns", "add", s.ns]);
      run("ip", ["netns", "add", c.ns]);
      // Created directly inside the namespaces: the names never exist in the host's.
      run(
        "ip",
        ["link", "add", s.iface, "netns", s.ns, "type", "veth"].concat([
          "peer",
          "name",
          c.iface,
          "netns",
          c.ns,
        ]),
      );
      for (const side of [s, c]) {
        run("ip", ["-n", side.ns, "addr", "add", `${side.v4}/24`, "dev", side.iface]);
        run("ip", ["-n", side.ns, "addr", "add", `${side.v6}/64`, "dev", side.iface, "nodad"]);
        run("ip", ["-n", side.ns, "link", "set", "lo", "up"]);
        run("ip", ["-n", side.ns, "link", "set", side.iface, "up"]);
      }
    } catch (e) {
      sb.close();
      throw e;
    }
    return sb;
  }

  /** Starts `argv` in the server or client namespace. */
  spawn(
    side: "server" | "client",
    argv: string[],
    onLine?: (line: string, stream: "out" | "err") => void,
    input?: string,
  ): NsProcess {
    const p = new NsProcess(this[side].ns, argv, onLine, input);
    this.#procs.push(p);
    return p;
  }

  /**
   * Starts an HTTP server (IPv4 and IPv6) on `port` in the server namespace. Idle keep-alive
   * connections stay open until the client closes them: with Node's default 5 s timeout, a
   * machine that stalls for seconds (a loaded VM) sees the server close a connection the
   * client is just reusing, and the request fails with "socket hang up".
   */
  async httpServer(port: number): Promise<NsProcess> {
    const script = `const s = require("node:http").createServer((req, res) => {
        req.resume(); req.on("end", () => res.end("ok\\n"));
      });
      s.keepAliveTimeout = 0;
      s.listen(${port}, "::", () => console.log("listening"));`;
    const p = this.spawn("server", [process.execPath, "-e", script]);
    await p.waitFor(/^listening$/);
    return p;
  }

  /**
   * Sends `traffic` from the client namespace (see client.ts); rejects if any of it fails.
   * With `cpu`, the client runs on that CPU only — and so does the XDP program that sees its
   * packets, since veth delivers on the sender's CPU.
   */
  async send(traffic: Traffic, opts: { cpu?: number; ms?: number } = {}): Promise<void> {
    const pin = opts.cpu === undefined ? [] : ["taskset", "-c", String(opts.cpu)];
    const argv = [...pin, process.execPath, CLIENT_JS];
    const p = this.spawn("client", argv, undefined, JSON.stringify(traffic));
    const ms = opts.ms ?? 120_000;
    const timer = setTimeout(() => void p.stop("SIGKILL"), ms);
    const code = await p.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`client failed (${code}): ${p.stderr.join("\n")}`);
  }

  /** The id of the XDP program attached to the server's interface, if any. */
  xdpProgramId(): number | undefined {
    const out = run("ip", ["-n", this.server.ns, "-d", "link", "show", "dev", this.server.iface]);
    const m = /prog\/xdp id (\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  }

  /** Kills what is still running and deletes both namespaces. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    process.off("exit", this.#onExit);
    for (const p of this.#procs) if (p.running) p.stop("SIGKILL").catch(() => {});
    for (const side of [this.server, this.client])
      spawnSync("ip", ["netns", "del", side.ns], { stdio: "ignore" });
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
