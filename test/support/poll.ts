// Polling for kernel state that settles asynchronously (link teardown after a process dies
// or an fd closes is deferred to a workqueue).

/** Poll `cond` every 50 ms until true or `ms` elapsed; returns the last answer. */
export async function eventually(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}
