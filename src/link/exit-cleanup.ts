// Detaching netlink attachments when the process ends. A netlink XDP program or cls_bpf filter
// is not a bpf_link: nothing in the kernel removes it when our process dies, so without this it
// would stay attached after Ctrl-C, `process.exit()` or a crash. While at least one such link is
// open, this module keeps:
//
// - a process "exit" listener: runs on a normal end, `process.exit()`, an uncaught exception
//   and an unhandled rejection (Node turns those into an exit with status 1 and emits "exit");
// - listeners for every signal whose default action ends the process and that JavaScript can
//   catch (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2, SIGALRM, SIGVTALRM, SIGXCPU, SIGXFSZ,
//   SIGPWR; not SIGUSR1, which Node keeps for its inspector, nor SIGPIPE, which it ignores),
//   and that change nothing a user set up: when the signal
//   would have killed the process (no other listener for it), the listener detaches the links,
//   removes itself and raises the same signal again, so the process dies of that signal with the
//   usual exit status. When the program has its own listener for the signal, the signal does not
//   end the process, so the links stay attached and our listener does nothing; they are
//   detached on "exit" if the program later exits.
//
// Every listener is removed again when the last netlink link closes. SIGKILL, an abort or an
// out-of-memory kill end the process without running any JavaScript: those leave the program
// attached (see docs/api.md); bpf_link attachments do not have that gap. In a worker thread
// nothing can be guaranteed (signals are not delivered there, and neither the main thread's
// process.exit() nor worker.terminate() runs the worker's "exit" listeners), so the attach
// functions refuse netlink there unless told that the attachment may outlive the process.

import { isMainThread } from "node:worker_threads";

type Teardown = () => void;

export const CLEANUP_SIGNALS = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR2",
  "SIGALRM",
  "SIGVTALRM",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGPWR",
] as const;
const SIGNALS = CLEANUP_SIGNALS;
type CleanupSignal = (typeof SIGNALS)[number];

const pending = new Set<Teardown>();
const signalListeners = new Map<CleanupSignal, () => void>();
let installed = false;

/** Run every pending teardown once; errors are reported on stderr, never thrown. */
export function runExitCleanup(): void {
  for (const t of [...pending]) {
    pending.delete(t);
    try {
      t();
    } catch (e) {
      process.stderr.write(
        `tsbpf: could not detach a netlink attachment at exit: ${(e as Error).message}\n`,
      );
    }
  }
  uninstall();
}

function onExit(): void {
  runExitCleanup();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", onExit);
  if (!isMainThread) return; // no signals in workers
  for (const sig of SIGNALS) {
    const listener = (): void => {
      // Another listener means the program handles this signal itself: the process goes on.
      if (process.listenerCount(sig) > 1) return;
      runExitCleanup();
      // Our listener is gone now, so the default action applies again: die of the signal.
      process.kill(process.pid, sig);
    };
    signalListeners.set(sig, listener);
    process.on(sig, listener);
  }
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off("exit", onExit);
  for (const [sig, l] of signalListeners) process.off(sig, l);
  signalListeners.clear();
}

/**
 * Register `teardown` to run when the process ends; returns a function that runs it now
 * (at most once) and unregisters it.
 */
export function detachOnExit(teardown: Teardown): Teardown {
  let done = false;
  const once: Teardown = () => {
    if (done) return;
    done = true;
    pending.delete(once);
    if (pending.size === 0) uninstall();
    teardown();
  };
  pending.add(once);
  install();
  return once;
}

/**
 * Why a netlink attachment made here could stay attached after the process ends although no
 * one killed it with SIGKILL, or undefined when the exit cleanup covers every such ending.
 */
export function exitCleanupGap(): string | undefined {
  return isMainThread
    ? undefined
    : "in a worker thread tsbpf cannot detach it when the process or the worker is ended from outside (process.exit() in the main thread, worker.terminate(), a signal)";
}

/** How many netlink teardowns are waiting for the process to end (for tests). */
export function pendingExitCleanups(): number {
  return pending.size;
}
