// fd readiness on the libuv event loop (uv_poll): no thread blocks and the loop keeps running.
import { check, SysError } from "./errors.js";
import { native, PollEvents, type PollHandle } from "./native.js";

export { PollEvents };

/**
 * Calls `onReady(events)` on the event loop whenever `fd` is ready. While started and ref'd it
 * keeps the process alive (a reader waiting for events should); unref() lets the process exit.
 * libuv allows one poller per fd per loop. Errors (e.g. the fd was closed) arrive as
 * `onError(errno)`; the poller is then stopped.
 */
export class Poller {
  #handle: PollHandle | undefined;

  constructor(
    fd: number,
    events: number,
    onReady: (events: number) => void,
    onError: (errno: number) => void = () => {},
  ) {
    const r = native().pollStart(fd, events, (status, ev) => {
      if (status < 0) {
        this.stop();
        onError(-status);
      } else onReady(ev);
    });
    if (typeof r === "number") check("uv_poll_start", r, { subject: `fd ${fd}` });
    this.#handle = r as PollHandle;
  }

  get active(): boolean {
    return this.#handle !== undefined;
  }

  /** Keep the process alive while waiting (the default). */
  ref(): this {
    if (this.#handle) native().pollRef(this.#handle, true);
    return this;
  }

  /** Do not keep the process alive just for this poller. */
  unref(): this {
    if (this.#handle) native().pollRef(this.#handle, false);
    return this;
  }

  /** Stops watching; safe to call more than once and from inside the callback. */
  stop(): void {
    const h = this.#handle;
    this.#handle = undefined;
    if (h) native().pollStop(h);
  }

  [Symbol.dispose](): void {
    this.stop();
  }
}

/** Resolves once `fd` is readable (one-shot). Rejects with the AbortSignal's reason. */
export function waitReadable(fd: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      poller.stop();
      reject(signal?.reason);
    };
    const poller: Poller = new Poller(
      fd,
      PollEvents.READABLE,
      () => {
        poller.stop();
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      (errno) => {
        signal?.removeEventListener("abort", onAbort);
        reject(new SysError("uv_poll", errno, { subject: `fd ${fd}` }));
      },
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
