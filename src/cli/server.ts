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
import { createServer, type Server, type Socket } from "node:net";
import { rmSync, statSync, writeFileSync, writeSync } from "node:fs";
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
import { UsageError } from "./main.js";

/** Default idle time before the server exits (TSBPF_SERVER_IDLE overrides, in seconds). */
export const DEFAULT_IDLE_SECONDS = 15 * 60;
/** The umask the server itself runs with: its socket is for its own user only. */
const SERVER_UMASK = 0o077;
/** A heap this large after a build means something kept garbage alive: start afresh. */
const MAX_HEAP_BYTES = 1536 << 20;

export interface ServeOptions {
  /** the Unix socket to listen on */
  socket: string;
  /** the snapshot blob this server was started from: replaced means out of date */
  identity: string;
  idleSeconds: number;
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
async function runCli(r: BuildRequest, send: (kind: FrameKind, data: string | Uint8Array) => void) {
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
    const { program, reportError } = await import("./main.js");
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

/** Listens until stopped; resolves then (or at once when another server already listens). */
export async function serve(opts: ServeOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const identity = stampOf(opts.identity);
  if (!identity) throw new Error(`${opts.identity} does not exist`);
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
  const mine = stampOf(opts.socket);
  // For `tsbpf server stop` when this process no longer answers (a build that never ends).
  const pidFile = `${opts.socket}.pid`;
  writeFileSync(pidFile, `${process.pid}\n`);
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
  const onSignal = (sig: NodeJS.Signals) => stop(sig);
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);

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
    if (req.uid !== process.getuid?.()) {
      exit(NOT_SERVED);
      return true;
    }
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

  async function build(conn: Socket, req: BuildRequest): Promise<void> {
    const { send, exit } = replyTo(conn);
    // A stale snapshot or a stop may have come while this build waited.
    if (answerAtOnce(conn, req)) return;
    const t0 = performance.now();
    const status = await runCli(req, send);
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
    conn.on("error", () => conn.destroy());
    conn.on("close", () => {
      if (!taken && !stopping) armIdle(); // connected and left without a request
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
      if (answerAtOnce(conn, req)) {
        if (!stopping) armIdle();
        return;
      }
      queue = queue
        .then(() => build(conn, req))
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
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
}

/** `tsbpf server run`: the server of the snapshot this process was started from. */
export async function runServer(): Promise<void> {
  const blob = ownSnapshotBlob();
  if (!blob)
    throw new UsageError(
      "`tsbpf server run` runs in a process started from the build snapshot: use `tsbpf server start`",
    );
  const raw = process.env.TSBPF_SERVER_IDLE;
  const idleSeconds = raw === undefined || raw === "" ? DEFAULT_IDLE_SECONDS : Number(raw);
  if (!Number.isFinite(idleSeconds) || idleSeconds <= 0)
    throw new UsageError(`TSBPF_SERVER_IDLE must be a positive number of seconds, not ${raw}`);
  // Written straight to fd 2: process.stderr is a client's while a build runs.
  const log = process.env.TSBPF_DEBUG
    ? (line: string) => writeSync(2, `${new Date().toISOString()} tsbpf server: ${line}\n`)
    : undefined;
  await serve({ socket: serverSocketFor(blob), identity: blob, idleSeconds, ...(log && { log }) });
}
