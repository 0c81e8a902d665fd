// Starting, stopping and asking the build server (server.ts): `tsbpf server start|stop|status`
// and the start in the background after a build from the snapshot. The Node side of the
// protocol in server-protocol.ts; builds themselves go through native/tsbpf-client.c.
import { spawn } from "node:child_process";
import { closeSync, readFileSync, rmSync } from "node:fs";
import { readPid } from "./cache-prune.js";
import { openPrivateLog, untrustedEntry } from "./cache-dir.js";
import { peerCredentials, socketFd } from "../sys/peer.js";
import { createConnection, type Socket } from "node:net";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeRequest, FrameKind, NOT_SERVED, Unframer } from "./server-protocol.js";
import { findSnapshot, makeSnapshot, SNAPSHOT_FLAGS, serverSocketFor } from "./snapshot.js";
import type { ServerStatus } from "./server.js";
import { UsageError } from "../cli/usage-error.js";

export type { ServerStatus };

/** Connects to a Unix socket; a path longer than sockaddr_un holds is reached from its directory. */
export function connectSocket(path: string): Socket {
  if (Buffer.byteLength(path) < 104) return createConnection(path);
  const cwd = process.cwd();
  process.chdir(dirname(path));
  try {
    return createConnection(basename(path)); // the kernel resolves it in connect(), now
  } finally {
    process.chdir(cwd);
  }
}

/** Whether a server answers on the socket. */
export function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connectSocket(socket);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/** Whether the process at the other end of a connected socket runs as this one's user. */
export function ownPeer(c: Socket): boolean {
  try {
    return peerCredentials(socketFd(c)).uid === process.geteuid?.();
  } catch {
    return false;
  }
}

export interface Reply {
  status: number;
  stdout: string;
  stderr: string;
}

/** Sends one request; undefined when no server answers (or it did not serve the request). */
export function ask(
  socket: string,
  argv: string[],
  timeoutMs = 10_000,
): Promise<Reply | undefined> {
  return new Promise((resolve) => {
    const reply: Reply = { status: NOT_SERVED, stdout: "", stderr: "" };
    const frames = new Unframer(1);
    let exited = false;
    const c = connectSocket(socket);
    const timer = setTimeout(() => c.destroy(), timeoutMs);
    c.once("connect", () => {
      // Nothing goes to a server of another user (the kernel's word: SO_PEERCRED).
      if (!ownPeer(c)) return c.destroy();
      c.write(
        encodeRequest({
          cwd: process.cwd(),
          umask: 0o022,
          stdoutTty: false,
          stderrTty: false,
          uid: process.getuid?.() ?? 0,
          argv,
          env: {},
        }),
      );
    });
    c.on("data", (chunk) => {
      for (const f of frames.push(chunk)) {
        if (f.head === FrameKind.Stdout) reply.stdout += f.body.toString("utf8");
        else if (f.head === FrameKind.Stderr) reply.stderr += f.body.toString("utf8");
        else if (f.head === FrameKind.Exit) {
          reply.status = Number(f.body.toString("latin1"));
          exited = true;
        }
      }
    });
    c.on("error", () => {});
    c.once("close", () => {
      clearTimeout(timer);
      resolve(exited && reply.status !== NOT_SERVED ? reply : undefined);
    });
  });
}

/** The running server's status, or undefined when none answers. */
export async function serverStatus(
  socket: string,
  timeoutMs?: number,
): Promise<ServerStatus | undefined> {
  const r = await ask(socket, ["server-status"], timeoutMs);
  if (r?.status !== 0) return undefined;
  return JSON.parse(r.stdout) as ServerStatus;
}

/** Why builds start no server by themselves here, or undefined when they do. */
export function autoStartDisabled(env: NodeJS.ProcessEnv): string | undefined {
  if (env.TSBPF_SERVER === "0") return "TSBPF_SERVER=0";
  if (env.CI) return "CI is set (one build per machine: a server would only linger)";
  return undefined;
}

/** The snapshot blob this process was started from, if any. */
export function ownSnapshotBlob(): string | undefined {
  const i = process.execArgv.indexOf("--snapshot-blob");
  return i >= 0 ? process.execArgv[i + 1] : undefined;
}

/** Starts `tsbpf server run` from the blob, detached from this terminal and session. */
function spawnServer(blob: string, bin: string): void {
  const env = { ...process.env, NODE_OPTIONS: "" };
  // With TSBPF_DEBUG the server logs each request to <socket>.log.
  // (never through a link planted at its name, never another user's: cache-dir.ts)
  let log: number | "ignore" = "ignore";
  if (process.env.TSBPF_DEBUG) {
    try {
      log = openPrivateLog(`${serverSocketFor(blob)}.log`);
    } catch (e) {
      console.error(`tsbpf: no build server log: ${(e as Error).message}`);
    }
  }
  spawn(process.execPath, [...SNAPSHOT_FLAGS, "--snapshot-blob", blob, bin, "server", "run"], {
    detached: true,
    stdio: ["ignore", log, log],
    cwd: "/",
    env,
  }).unref();
  if (typeof log === "number") closeSync(log);
}

/**
 * After a build from the snapshot: starts a server for the next builds unless one answers or
 * autoStartDisabled() says no. Never throws; costs a connect() when a server is running.
 */
export async function startInBackground(): Promise<void> {
  try {
    const blob = ownSnapshotBlob();
    const bin = process.argv[1];
    if (!blob || !bin || autoStartDisabled(process.env)) return;
    if (await answers(serverSocketFor(blob))) return;
    spawnServer(blob, bin);
  } catch {
    // no server: builds are slower, nothing else
  }
}

const BIN = fileURLToPath(new URL("./bin.js", import.meta.url));

/** `tsbpf server start`: makes the snapshot if needed, starts the server and waits for it. */
export async function startServer(
  waitMs = 30_000,
): Promise<{ status: ServerStatus; started: boolean }> {
  let found = findSnapshot();
  if (!found.ok && found.stale) found = makeSnapshot();
  if (!found.ok) throw new UsageError(`the build server needs the build snapshot: ${found.reason}`);
  const socket = serverSocketFor(found.blob);
  const running = await serverStatus(socket);
  if (running) return { status: running, started: false };
  spawnServer(found.blob, BIN);
  const until = Date.now() + waitMs;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    const status = await serverStatus(socket);
    if (status) return { status, started: true };
  }
  throw new UsageError(
    `the build server did not answer on ${socket} within ${waitMs / 1000} s ` +
      "(TSBPF_DEBUG=1 tsbpf server start writes its log to ${socket}.log; " +
      "`tsbpf server stop` ends a server that hangs)",
  );
}

/** This package's snapshot blob and its server's socket (whether or not one runs). */
export function currentServer(): { blob: string; socket: string } | undefined {
  const found = findSnapshot();
  return found.ok ? { blob: found.blob, socket: serverSocketFor(found.blob) } : undefined;
}

/** Whether pid is a build server of this snapshot (not a process that reused the number). */
function isServer(pid: number, blob: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0");
    const i = argv.indexOf("--snapshot-blob");
    return i >= 0 && argv[i + 1] === blob && argv.includes("server") && argv.includes("run");
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until pid is no longer this snapshot's server; whether it is gone. */
async function gone(pid: number, blob: string, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20))
    if (!isServer(pid, blob)) return true;
  return !isServer(pid, blob);
}

/**
 * `tsbpf server stop`: asks the server to stop and waits until its process is gone. A server
 * that does not answer (stuck in a build) but left its pid, or that answered and still runs
 * (a build that never ends holds it), is sent SIGTERM, then SIGKILL. Resolves with what
 * happened, or undefined when no server was running; throws when the process outlives SIGKILL.
 */
export async function stopServer(
  socket: string,
  blob: string,
  waitMs = 5_000,
): Promise<{ pid: number; killed: boolean } | undefined> {
  const status = await serverStatus(socket, 3_000);
  const pidFile = `${socket}.pid`;
  // the pid file is believed only when it is the user's own (cache-dir.ts)
  const pid = status?.pid ?? (untrustedEntry(pidFile) ? undefined : readPid(pidFile));
  if (pid === undefined) return undefined;
  if (status && !isServer(pid, blob)) {
    // it answers, but its process is not one this can watch (another /proc view): as asked
    await ask(socket, ["server-stop"], 3_000);
    for (const end = Date.now() + waitMs; Date.now() < end && (await answers(socket));)
      await sleep(20);
    return { pid, killed: false };
  }
  if (!isServer(pid, blob)) return undefined;
  if (status) {
    await ask(socket, ["server-stop"], 3_000);
    if (await gone(pid, blob, waitMs)) return { pid, killed: false };
  }
  for (const sig of ["SIGTERM", "SIGKILL"] as const) {
    try {
      process.kill(pid, sig);
    } catch {
      break; // gone
    }
    if (await gone(pid, blob, sig === "SIGTERM" ? 2_000 : waitMs)) break;
  }
  if (isServer(pid, blob))
    throw new UsageError(
      `build server pid ${pid} is still running after SIGKILL: it may be stuck in the kernel (see /proc/${pid}/stack)`,
    );
  // SIGKILL leaves no chance to clean up
  rmSync(socket, { force: true });
  rmSync(pidFile, { force: true });
  return { pid, killed: true };
}
