// `node dist/src/accel/snapshot-make.js [--lock FILE]`: makes the `tsbpf build` startup snapshot
// (snapshot.ts). Run by `npm run build`, after `npm install`, and detached by a build that
// found none (which passes the lock file it took, removed here). Prints what it did; exits 0
// even when no snapshot could be made, since builds work without one.
import { rmSync } from "node:fs";
import { makeSnapshot } from "./snapshot.js";

const lockAt = process.argv.indexOf("--lock");
const lock = lockAt > 0 ? process.argv[lockAt + 1] : undefined;
try {
  const t0 = performance.now();
  const r = makeSnapshot();
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(r.ok ? `  SNAPSHOT ${r.blob} (${s} s)` : `  SNAPSHOT none: ${r.reason}`);
} catch (e) {
  console.log(`  SNAPSHOT none: ${(e as Error).message}`);
} finally {
  if (lock !== undefined) rmSync(lock, { force: true });
}
