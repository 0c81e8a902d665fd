// The build server: one long-lived Node process per user, package and Node version, started
// from the build snapshot, that runs `tsbpf build` for native/tsbpf-client.c (which bin/tsbpf
// runs when the socket exists). A build then costs a C process and the compile itself instead
// of starting Node and deserializing TypeScript, like Gradle's daemon or tsserver.
//
// A request runs exactly as `tsbpf build` would in the client's shell: in its working
// directory, with its umask and environment, colours decided from its terminal, its output
// relayed to its stdout and stderr and its exit status returned (requests run one at a time,
// so the process-wide state can be swapped in for each). The server stops when its snapshot
// blob is replaced (a new build of the package: the request is answered NOT_SERVED and the
// client builds the usual way), after TSBPF_SERVER_IDLE seconds without a request, on
// `tsbpf server stop`, SIGTERM or SIGINT.
//
// Trust and liveness: it runs only from a cache directory that is its user's alone
// (cache-dir.ts), serves only connections whose peer the kernel says is its own uid
// (SO_PEERCRED; the request's uid field is not believed), closes a connection that has not
// sent a whole request within REQUEST_TIMEOUT_MS, and a watchdog thread ends the process
// when one build runs longer than TSBPF_SERVER_BUILD_TIMEOUT seconds (a synchronous loop
// cannot be interrupted from its own thread): that build's client is told so, the builds
// queued behind it go the ordinary way, and the next build starts a new server.
import { createServer, type Server, type Socket } from "node:net";
import { rmSync, statSync, writeSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { basename, dirname } from "node:path";
import pc from "picocolors";
import {
  encodeFrame,
  FrameKind,
  NOT_SERVED,
  parseRequest,
  RequestError,
  Unframer,
  type BuildRequest,
} from "./server-protocol.js";
import { readPid } from "./cache-prune.js";
import { answers, ownSnapshotBlob } from "./server-control.js";
import { serverSocketFor } from "./snapshot.js";
import { UsageError } from "../cli/usage-error.js";
import { createPrivate, untrustedDir, untrustedEntry } from "./cache-dir.js";
import { peerCredentials, socketFd } from "../sys/peer.js";

/** Default idle time before the server exits (TSBPF_SERVER_IDLE overrides, in seconds). */
export const DEFAULT_IDLE_SECONDS = 15 * 60;
/** The umask the server itself runs with: its socket is for its own user only. */
const SERVER_UMASK = 0o077;
/** A heap this large after a build means something kept garbage alive: start afresh. */
const MAX_HEAP_BYTES = 1536 << 20;
/** Default limit of one build's time (TSBPF_SERVER_BUILD_TIMEOUT overrides, in seconds). */
export const DEFAULT_BUILD_TIMEOUT_SECONDS = 600;
/** A connection that has not sent its whole request by then is closed (default; seconds in
 * TSBPF_SERVER_REQUEST_TIMEOUT override it). */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Connections served at once (requests wait in a queue; the rest are refused by the kernel). */
const MAX_CONNECTIONS = 64;

/** The command the server runs for each request (cli/main.ts hands it over: no import back). */
export interface ServedCommand {
  program(): { parseAsync(argv: string[]): Promise<unknown> };
  reportError(e: unknown): Promise<number>;
}

export interface ServeOptions {
  /** what runs each request: `tsbpf` itself */
  command: ServedCommand;
  /** the Unix socket to listen on */
  socket: string;
  /** the snapshot blob this server was started from: replaced means out of date */
  identity: string;
  idleSeconds: number;
  /** a build running longer ends the server (watchdog); default DEFAULT_BUILD_TIMEOUT_SECONDS */
  buildTimeoutSeconds?: number;
  /** default REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
  log?: (line: string) => void;
}

/** What `tsbpf server status` prints (as JSON on the wire). */
export interface ServerStatus {
  pid: number;
  socket: string;
  node: string;
  startedAt: string;
  builds: number;
  idleSeconds: number;
}

interface Stamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

function stampOf(file: string): Stamp | undefined {
  try {
    const s = statSync(file);
    return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return undefined;
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** picocolors' own rule (NO_COLOR, FORCE_COLOR, --color, a terminal, CI), for the client. */
function wantsColor(r: BuildRequest): boolean {
  const env = r.env;
  if (env.NO_COLOR || r.argv.includes("--no-color")) return false;
  return (
    !!env.FORCE_COLOR ||
    r.argv.includes("--color") ||
    (r.stdoutTty && env.TERM !== "dumb") ||
    !!env.CI
  );
}

type Write = typeof process.stdout.write;

/**
 * Runs the CLI for one request with the client's directory, umask, environment and colours,
 * its output sent as frames; returns the exit status. Everything swapped is put back.
 */
async function runCli(
  { program, reportError }: ServedCommand,
  r: BuildRequest,
  send: (kind: FrameKind, data: string | Uint8Array) => void,
) {
  const savedEnv = { ...process.env };
  const savedOut = process.stdout.write;
  const savedErr = process.stderr.write;
  const capture =
    (kind: FrameKind): Write =>
    (chunk: string | Uint8Array, ...rest: unknown[]) => {
      send(kind, typeof chunk === "string" ? chunk : Buffer.from(chunk));
      const cb = rest.find((a) => typeof a === "function") as (() => void) | undefined;
      if (cb) queueMicrotask(cb);
      return true;
    };
  try {
    process.chdir(r.cwd);
    process.umask(r.umask);
    for (const k of Object.keys(process.env)) if (!(k in r.env)) delete process.env[k];
    Object.assign(process.env, r.env);
    Object.assign(pc, pc.createColors(wantsColor(r)));
    process.stdout.write = capture(FrameKind.Stdout);
    process.stderr.write = capture(FrameKind.Stderr);
    process.exitCode = undefined;
    try {
      await program().parseAsync(["node", "tsbpf", ...r.argv]);
    } catch (e) {
      process.exitCode = await reportError(e);
    }
    const code = process.exitCode;
    return typeof code === "number" ? code : Number(code ?? 0) || 0;
  } catch (e) {
    // the directory vanished, and the like: said as the CLI would say it
    send(FrameKind.Stderr, pc.red(`error: ${(e as Error).message}\n`));
    return 1;
  } finally {
    process.stdout.write = savedOut;
    process.stderr.write = savedErr;
    process.exitCode = undefined;
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    process.umask(SERVER_UMASK);
    process.chdir("/");
  }
}

/**
 * The watchdog thread: while a build runs, the shared array holds its client's fd and its
 * deadline (milliseconds since `t0`); past the deadline the thread tells that client (a stderr
 * and an exit frame, written straight to the fd) and SIGKILLs the process, since the main
 * thread may be in a loop that never returns to the event loop. Unref'd: it keeps nothing alive.
 */
export function startWatchdog(limitSeconds: number, log: (line: string) => void = () => {}) {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  shared[0] = -1;
  const t0 = Date.now();
  const message =
    `tsbpf: this build ran longer than ${limitSeconds} s in the build server, which ended it ` +
    "and exits (TSBPF_SERVER_BUILD_TIMEOUT sets the limit; TSBPF_SERVER=0 builds without the server)\n";
  const code = `
    const { workerData } = require("node:worker_threads");
    const { writeSync } = require("node:fs");
    const s = new Int32Array(workerData.shared);
    const frame = (kind, text) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(5);
      head[0] = kind;
      head.writeUInt32LE(body.length, 1);
      return Buffer.concat([head, body]);
    };
    setInterval(() => {
      const fd = Atomics.load(s, 0);
      if (fd < 0 || Date.now() - workerData.t0 < Atomics.load(s, 1)) return;
      try {
        writeSync(fd, Buffer.concat([frame(${FrameKind.Stderr}, workerData.message), frame(${FrameKind.Exit}, "1")]));
      } catch {}
      process.kill(process.pid, "SIGKILL");
    }, 200);`;
  const worker = new Worker(code, {
    eval: true,
    execArgv: [], // CommonJS whatever the process was started with (--input-type=module)
    workerData: { shared: shared.buffer, t0, message },
  });
  worker.on("error", (e) => log(`the build watchdog failed: ${e.message}`));
  worker.unref();
  return {
    begin(fd: number) {
      Atomics.store(shared, 1, Date.now() - t0 + limitSeconds * 1000);
      Atomics.store(shared, 0, fd);
    },
    end() {
      Atomics.store(shared, 0, -1);
    },
    stop: () => void worker.terminate(),
  };
}

/** Listens until stopped; resolves then (or at once when another server already listens). */
export async function serve(opts: ServeOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const identity = stampOf(opts.identity);
  if (!identity)
    throw new UsageError(
      `${opts.identity} does not exist: rebuild the snapshot (tsbpf server start)`,
    );
  const startedAt = new Date();
  let builds = 0;
  let stopping = false;
  let queue: Promise<void> = Promise.resolve();

  process.umask(SERVER_UMASK);
  process.chdir("/");
  const server = createServer({ allowHalfOpen: true });
  // A socket path longer than sockaddr_un holds is bound from its directory.
  const short = Buffer.byteLength(opts.socket) < 104;
  const bindPath = short ? opts.socket : basename(opts.socket);
  const bind = async () => {
    if (!short) process.chdir(dirname(opts.socket));
    try {
      await listen(server, bindPath);
    } finally {
      process.chdir("/");
    }
  };
  try {
    await bind();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    if (await answers(opts.socket)) {
      log(`another build server already listens on ${opts.socket}`);
      return;
    }
    rmSync(opts.socket, { force: true }); // left by a server that died
    await bind();
  }
  server.maxConnections = MAX_CONNECTIONS;
  const mine = stampOf(opts.socket);
  // For `tsbpf server stop` when this process no longer answers (a build that never ends):
  // a new file (never written through a link planted at the name; see cache-dir.ts).
  const pidFile = `${opts.socket}.pid`;
  rmSync(pidFile, { force: true });
  createPrivate(pidFile, `${process.pid}\n`);
  const limit = opts.buildTimeoutSeconds ?? DEFAULT_BUILD_TIMEOUT_SECONDS;
  const watchdog = startWatchdog(limit, log);
  log(`listening on ${opts.socket} (pid ${process.pid})`);

  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => stop(`idle for ${opts.idleSeconds} s`), opts.idleSeconds * 1000);
  };

  const done = new Promise<void>((resolve) => server.once("close", resolve));
  function stop(why: string): void {
    if (stopping) return;
    stopping = true;
    clearTimeout(idle);
    log(`stopping: ${why}`);
    // Remove the socket only if it is still ours (not one a newer server bound since).
    if (stampOf(opts.socket)?.ino === mine?.ino) rmSync(opts.socket, { force: true });
    if (readPid(pidFile) === process.pid) rmSync(pidFile, { force: true });
    server.close();
  }
  // A second SIGTERM while a build still runs ends the process at once.
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) process.kill(process.pid, "SIGKILL");
    stop(sig);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  /** The reply channel of one connection. */
  const replyTo = (conn: Socket) => ({
    send(kind: FrameKind, data: string | Uint8Array) {
      if (!conn.destroyed) conn.write(encodeFrame(kind, data));
    },
    exit(status: number) {
      if (!conn.destroyed) conn.end(encodeFrame(FrameKind.Exit, String(status)));
    },
  });

  /**
   * Answers what needs no build at once (refusals, status, stop), even while a build runs;
   * returns false for a build, which waits its turn in the queue.
   */
  function answerAtOnce(conn: Socket, req: BuildRequest): boolean {
    const { send, exit } = replyTo(conn);
    const now = stampOf(opts.identity);
    if (stopping || !now || now.ino !== identity!.ino || now.mtimeMs !== identity!.mtimeMs) {
      exit(NOT_SERVED);
      stop(`${opts.identity} was replaced`);
      return true;
    }
    switch (req.argv[0]) {
      case "server-status": {
        const status: ServerStatus = {
          pid: process.pid,
          socket: opts.socket,
          node: process.version,
          startedAt: startedAt.toISOString(),
          builds,
          idleSeconds: opts.idleSeconds,
        };
        send(FrameKind.Stdout, JSON.stringify(status) + "\n");
        exit(0);
        return true;
      }
      case "server-stop":
        exit(0);
        stop("asked to stop");
        return true;
      case "build":
        return false;
      default:
        send(FrameKind.Stderr, "error: the build server runs only `tsbpf build`\n");
        exit(2);
        return true;
    }
  }

  async function build(conn: Socket, req: BuildRequest, gone: () => boolean): Promise<void> {
    const { send, exit } = replyTo(conn);
    // After the poll phase: a client that gave up waiting (it then builds the ordinary way)
    // has closed its connection by now, and its build must not run twice.
    await new Promise((r) => setImmediate(r));
    if (gone()) {
      log("a client left before its build started");
      conn.destroy();
      return;
    }
    // A stale snapshot or a stop may have come while this build waited.
    if (answerAtOnce(conn, req)) return;
    const t0 = performance.now();
    send(FrameKind.Started, String(limit));
    watchdog.begin(socketFd(conn));
    let status: number;
    try {
      status = await runCli(opts.command, req, send);
    } finally {
      watchdog.end();
    }
    builds++;
    log(
      `built ${req.argv.slice(1).join(" ")} in ${req.cwd}: exit ${status}, ${(performance.now() - t0).toFixed(1)} ms`,
    );
    exit(status);
    if (process.memoryUsage().heapUsed > MAX_HEAP_BYTES) stop("heap grew too large");
  }

  server.on("connection", (conn) => {
    clearTimeout(idle);
    const unframer = new Unframer(0);
    let taken = false;
    let ended = false;
    conn.on("error", () => conn.destroy());
    conn.on("end", () => (ended = true));
    conn.on("close", () => {
      ended = true;
      if (!taken && !stopping) armIdle(); // connected and left without a request
    });
    // Only the server's own user: the kernel's word for who connected, not the request's.
    let peer: number | undefined;
    try {
      peer = peerCredentials(socketFd(conn)).uid;
    } catch (e) {
      log(`no peer credentials: ${(e as Error).message}`);
    }
    if (peer !== process.geteuid?.()) {
      log(`refused a connection from uid ${peer ?? "unknown"}`);
      taken = true;
      replyTo(conn).exit(NOT_SERVED);
      if (!stopping) armIdle();
      return;
    }
    // A request that does not arrive whole in time (a stalled or hostile client) is dropped.
    conn.setTimeout(opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, () => {
      if (taken) return;
      log("closed a connection that sent no whole request in time");
      taken = true;
      conn.destroy();
    });
    conn.on("data", (chunk) => {
      if (taken) return;
      let req: BuildRequest;
      try {
        const first = unframer.push(chunk)[0];
        if (!first) return;
        taken = true;
        req = parseRequest(first.body);
      } catch (e) {
        log(`refused a request: ${(e as RequestError).message}`);
        taken = true;
        replyTo(conn).exit(NOT_SERVED);
        if (!stopping) armIdle();
        return;
      }
      conn.setTimeout(0);
      if (answerAtOnce(conn, req)) {
        if (!stopping) armIdle();
        return;
      }
      queue = queue
        .then(() => build(conn, req, () => ended || conn.destroyed))
        .catch((e: unknown) => {
          log(`internal error: ${(e as Error).stack ?? String(e)}`);
          const { send, exit } = replyTo(conn);
          send(FrameKind.Stderr, `internal error in the build server: ${(e as Error).message}\n`);
          exit(70);
        })
        .finally(() => {
          if (!stopping) armIdle();
        });
    });
  });

  armIdle();
  await done;
  watchdog.stop();
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
}

/** `tsbpf server run`: the server of the snapshot this process was started from. */
export async function runServer(command: ServedCommand): Promise<void> {
  const blob = ownSnapshotBlob();
  if (!blob)
    throw new UsageError(
      "`tsbpf server run` runs in a process started from the build snapshot: use `tsbpf server start`",
    );
  const raw = process.env.TSBPF_SERVER_IDLE;
  const idleSeconds = raw === undefined || raw === "" ? DEFAULT_IDLE_SECONDS : Number(raw);
  if (!Number.isFinite(idleSeconds) || idleSeconds <= 0)
    throw new UsageError(`TSBPF_SERVER_IDLE must be a positive number of seconds, not ${raw}`);
  const seconds = (name: string, dflt: number) => {
    const raw = process.env[name];
    const n = raw === undefined || raw === "" ? dflt : Number(raw);
    if (!Number.isInteger(n) || n <= 0)
      throw new UsageError(`${name} must be a positive whole number of seconds, not ${raw}`);
    return n;
  };
  const buildTimeoutSeconds = seconds("TSBPF_SERVER_BUILD_TIMEOUT", DEFAULT_BUILD_TIMEOUT_SECONDS);
  const requestTimeoutMs =
    seconds("TSBPF_SERVER_REQUEST_TIMEOUT", REQUEST_TIMEOUT_MS / 1000) * 1000;
  // The cache it listens in must be its user's alone (cache-dir.ts), and its blob too.
  const socket = serverSocketFor(blob);
  const distrust = untrustedDir(dirname(socket)) ?? untrustedEntry(blob);
  if (distrust !== undefined)
    throw new UsageError(`the build server runs only in a cache that is yours alone: ${distrust}`);
  // Written straight to fd 2: process.stderr is a client's while a build runs.
  const log = process.env.TSBPF_DEBUG
    ? (line: string) => writeSync(2, `${new Date().toISOString()} tsbpf server: ${line}\n`)
    : undefined;
  await serve({
    command,
    socket,
    identity: blob,
    idleSeconds,
    buildTimeoutSeconds,
    requestTimeoutMs,
    ...(log && { log }),
  });
}
