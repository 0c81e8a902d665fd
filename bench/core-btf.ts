// tsbpf's cost of the kernel BTF that CO-RE needs, the JS side of bench/c/core_btf.c: read and
// index /sys/kernel/btf/vmlinux (LazyBtf), then one candidate search per name given. Prints one
// JSON line like the C side (RSS from process.memoryUsage() after a GC, before vs after; run
// with --expose-gc).
//   node --expose-gc dist/bench/core-btf.js task_struct sk_buff cred ...
import { readFileSync } from "node:fs";
import { coreTargets } from "../src/load/kernel-btf.js";

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
/** RSS in kB, and its anonymous part (the data; file-backed pages are shared code) */
const rss = (): { total: number; anon: number } => {
  gc();
  const s = readFileSync("/proc/self/status", "utf8");
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { total: kb("VmRSS"), anon: kb("RssAnon") };
};
const names = process.argv.slice(2);
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const r0 = rss();
const c0 = cpu();
const t0 = performance.now();
const { vmlinux } = coreTargets();
vmlinux.typeById(1);
const t1 = performance.now();
let found = 0;
for (const n of names)
  if (vmlinux.idsWithEssentialName(n).some((id) => vmlinux.typeById(id).name === n)) found++;
const t2 = performance.now();
const c2 = cpu();
const r1 = rss();
console.log(
  JSON.stringify({
    types: vmlinux.typeCount,
    found,
    loadMs: +(t1 - t0).toFixed(2),
    findMs: +(t2 - t1).toFixed(2),
    cpuMs: +(c2 - c0).toFixed(2),
    addedRssKb: r1.total - r0.total,
    addedAnonKb: r1.anon - r0.anon,
  }),
);
