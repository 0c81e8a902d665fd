// Waiting for a ring to become readable without blocking anything: libuv uv_poll (epoll)
// watches the fds on the event loop itself, so no thread — neither the JS thread nor a libuv
// threadpool thread — sleeps in a syscall.
//
// Polls are started only while someone waits and stopped as soon as one fires. Both kinds of
// ring report readiness the way a one-shot watch wants it: a ring buffer map's fd is readable
// while producer_pos != consumer_pos (level-triggered), and a perf event's fd reports POLLIN
// once per kernel wakeup not yet seen by poll — which epoll_ctl(ADD) checks immediately, so
// data that arrived between our last read and the start of the watch is not missed.
import { SysError } from "../sys/errors.js";
import { Poller, PollEvents } from "../sys/poll.js";

export class Readiness {
  private pollers: Poller[] = [];
  private pending: Promise<void> | undefined;
  private wake: ((err?: Error) => void) | undefined;
  private closed = false;

  /** @param subject names the watched object in errors, e.g. `ring buffer "events"` */
  constructor(
    private readonly fds: readonly number[],
    private readonly subject: string,
  ) {}

  /**
   * Resolves when any fd is readable, or at once when closed. Concurrent callers share one
   * wait. Rejects with SysError when libuv cannot watch an fd.
   */
  wait(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return (this.pending ??= new Promise<void>((resolve, reject) => {
      this.wake = (err?: Error) => {
        this.stopAll();
        this.pending = undefined;
        this.wake = undefined;
        if (err) reject(err);
        else resolve();
      };
      try {
        for (const fd of this.fds) {
          this.pollers.push(
            new Poller(
              fd,
              PollEvents.READABLE,
              () => this.wake?.(),
              (errno) => this.wake?.(new SysError("uv_poll", errno, { subject: this.subject })),
            ),
          );
        }
      } catch (e) {
        this.wake(e as Error);
      }
    }));
  }

  /** Ends any wait (it resolves) and all future ones. */
  close(): void {
    this.closed = true;
    if (this.wake) this.wake();
    else this.stopAll();
  }

  private stopAll(): void {
    for (const p of this.pollers) p.stop();
    this.pollers = [];
  }
}
