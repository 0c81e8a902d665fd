// Drive an examples/tools tool in-process: start it, collect its output lines, wait until a
// line matching a predicate arrives (or the tool fails), stop it.
import type { Out } from "../../../examples/tools/common.js";

export interface Running {
  lines: string[];
  /** the first line after the header for which `match` holds; rejects when the tool fails */
  waitFor(match: (line: string) => boolean, what: string): Promise<string>;
  /** wait until the tool printed its header (its probe is attached) */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export function runTool(
  run: (argv: string[], out: Out, signal: AbortSignal) => Promise<void>,
  argv: string[],
): Running {
  const lines: string[] = [];
  const ac = new AbortController();
  let wake: () => void = () => {};
  let failure: unknown;
  let ended = false;
  const out: Out = (l) => {
    lines.push(l);
    wake();
  };
  const done = run(argv, out, ac.signal).then(
    () => {
      ended = true;
      wake();
    },
    (e: unknown) => {
      failure = e;
      ended = true;
      wake();
    },
  );
  const next = () => new Promise<void>((r) => (wake = r));
  return {
    lines,
    async waitFor(match, what) {
      // a generous limit so that a missing event fails the test instead of hanging it
      const limit = setTimeout(() => {
        failure ??= new Error(`no output line with ${what} in 30 s; got:\n${lines.join("\n")}`);
        wake();
      }, 30_000);
      try {
        for (;;) {
          const hit = lines.slice(1).find(match);
          if (hit !== undefined) return hit;
          if (failure) throw failure;
          if (ended)
            throw new Error(`the tool ended without a line with ${what}:\n${lines.join("\n")}`);
          await next();
        }
      } finally {
        clearTimeout(limit);
      }
    },
    async ready() {
      while (lines.length === 0) {
        if (failure) throw failure;
        if (ended) throw new Error("the tool ended before printing its header");
        await next();
      }
    },
    async stop() {
      ac.abort();
      await done;
      if (failure) throw failure;
    },
  };
}

/** A line split into its whitespace-separated columns. */
export const columns = (line: string): string[] => line.trim().split(/\s+/);
