// Waiting for a ring to become readable without blocking anything: libuv uv_poll (epoll)
// watches the fds on the event loop itself, so no thread — neither the JS thread nor a libuv
// threadpool thread — sleeps in a syscall.
//
// The two kinds of ring need different watches, because their fds answer poll() differently:
//
// - A ring buffer map fd is level-triggered and side-effect free: readable while
//   producer_pos != consumer_pos. A watch kept running while a batch is being processed would
//   fire on every loop turn, so PollReadiness watches only while someone waits.
//
// - A perf event fd's poll() is destructive: it returns POLLIN once per kernel wakeup and
//   clears the flag (atomic_xchg(&rb->poll, 0) in perf_poll). epoll calls poll() twice for a
//   new watch — once when it is added, once when it is harvested — so a watch added after a
//   wakeup loses that wakeup and the reader would sleep on data. LatchedReadiness therefore
//   watches from the start and for the reader's whole life (it does not spin: after reporting
//   a wakeup the fd stays quiet until the next one), latches wakeups that come while nobody
//   waits, keeps the process alive only while someone waits (uv_ref/uv_unref), and checks the
//   rings once after libuv has really added the watch, for samples written before that.
import { setImmediate as nextCheckPhase } from "node:timers/promises";
import { SysError } from "../sys/errors.js";
import { Poller, PollEvents } from "../sys/poll.js";

/** Something a reader can wait on until its ring may have data. */
export interface Readiness {
  /**
   * Resolves when a ring may have data (spurious wakes are possible: read and wait again), or
   * at once when closed. Concurrent callers share one wait. Rejects with SysError when libuv
   * cannot watch an fd.
   */
  wait(): Promise<void>;
  /** Ends any wait (it resolves) and all future ones; stops watching. */
  close(): void;
}

/** Shared promise plumbing: one pending wait at a time. */
abstract class Waiter implements Readiness {
  protected closed = false;
  private pending: Promise<void> | undefined;
  private settle: ((err?: Error) => void) | undefined;

  constructor(protected readonly subject: string) {}

  wait(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.pending) return this.pending;
    const p = new Promise<void>((resolve, reject) => {
      this.settle = (err?: Error) => {
        this.pending = undefined;
        this.settle = undefined;
        this.stopWaiting();
        if (err) reject(err);
        else resolve();
      };
    });
    this.pending = p;
    // After `pending` is set: startWaiting may settle at once (a latched wakeup).
    try {
      this.startWaiting();
    } catch (e) {
      this.fire(e as Error);
    }
    return p;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.settle?.();
    this.shutdown();
  }

  /** Whether a wait is in progress. */
  protected get waiting(): boolean {
    return this.settle !== undefined;
  }

  /** Resolve (or, with an error, reject) the pending wait, if any. */
  protected fire(err?: Error): void {
    this.settle?.(err);
  }

  protected pollError(errno: number): SysError {
    return new SysError("uv_poll", errno, { subject: this.subject });
  }

  protected abstract startWaiting(): void;
  protected abstract stopWaiting(): void;
  protected abstract shutdown(): void;
}

/** Watches the fds only during a wait (for level-triggered fds: ring buffer maps). */
export class PollReadiness extends Waiter {
  private pollers: Poller[] = [];

  /** @param subject names the watched object in errors, e.g. `ring buffer "events"` */
  constructor(
    private readonly fds: readonly number[],
    subject: string,
  ) {
    super(subject);
  }

  protected startWaiting(): void {
    for (const fd of this.fds) {
      this.pollers.push(
        new Poller(
          fd,
          PollEvents.READABLE,
          () => this.fire(),
          (errno) => this.fire(this.pollError(errno)),
        ),
      );
    }
  }

  protected stopWaiting(): void {
    for (const p of this.pollers) p.stop();
    this.pollers = [];
  }

  protected shutdown(): void {
    this.stopWaiting();
  }
}

/** Watches the fds for its whole life and latches wakeups (for perf event fds). */
export class LatchedReadiness extends Waiter {
  private readonly pollers: Poller[] = [];
  private latched = false;
  private failed: Error | undefined;

  /**
   * Starts watching now. Start it before the fds can produce (before the perf events are
   * installed in the map) where possible; `hasData` covers data written before libuv adds
   * the watch to epoll.
   */
  constructor(fds: readonly number[], subject: string, hasData: () => boolean) {
    super(subject);
    try {
      for (const fd of fds) {
        const p = new Poller(
          fd,
          PollEvents.READABLE,
          () => this.wake(),
          (errno) => {
            this.failed ??= this.pollError(errno);
            this.fire(this.failed);
          },
        );
        this.pollers.push(p.unref());
      }
    } catch (e) {
      this.shutdown();
      throw e;
    }
    // libuv adds new watches to epoll at the start of its next poll phase; an immediate set
    // from there runs after at most two check phases, when the watch is surely in place.
    void nextCheckPhase()
      .then(() => nextCheckPhase())
      .then(() => {
        if (!this.closed && hasData()) this.wake();
      });
  }

  private wake(): void {
    if (this.waiting) this.fire();
    else this.latched = true;
  }

  protected startWaiting(): void {
    if (this.failed) {
      this.fire(this.failed);
      return;
    }
    if (this.latched) {
      this.latched = false;
      this.fire();
      return;
    }
    for (const p of this.pollers) p.ref();
  }

  protected stopWaiting(): void {
    for (const p of this.pollers) p.unref();
  }

  protected shutdown(): void {
    for (const p of this.pollers) p.stop();
  }
}
