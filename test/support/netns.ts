// Two network namespaces joined by a veth pair, for tests that need real traffic without
// touching any network but their own. Names carry the pid and a counter so parallel test
// processes never collide; close() (also run on process exit as a safety net) deletes both
// namespaces, which destroys the veth pair with them.
//
//   using net = createNetnsPair();             // nsA:ifA 10.x.y.1  <-veth->  nsB:ifB 10.x.y.2
//   net.exec("a", "ping", ["-c", "3", net.ipB]);
import { spawnSync, type SpawnSyncReturns } from "node:child_process";

export interface NetnsPair extends Disposable {
  /** namespace names (for `ip netns exec` / `ip -n`) */
  readonly nsA: string;
  readonly nsB: string;
  /** veth ends: ifA lives in nsA, ifB in nsB */
  readonly ifA: string;
  readonly ifB: string;
  /** IPv4 addresses (without prefix length) of ifA and ifB, on a /24 of their own */
  readonly ipA: string;
  readonly ipB: string;
  /** Run a command inside namespace "a" or "b"; throws with stderr when it fails (unless allowFail). */
  exec(
    ns: "a" | "b",
    cmd: string,
    args: string[],
    opts?: { allowFail?: boolean; timeoutMs?: number },
  ): SpawnSyncReturns<string>;
  /** `ping -c count` from one end to the other; returns how many replies came back. */
  ping(from: "a" | "b", count?: number): number;
  close(): void;
}

let counter = 0;
const live = new Set<NetnsPair>();
let exitHook = false;

function run(cmd: string, args: string[], allowFail = false, timeoutMs = 20_000) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
  if (!allowFail && r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(" ")} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ""}): ${r.stderr}`,
    );
  return r;
}

/** Whether `ip netns` works here (root and iproute2). */
export function netnsUnavailable(): string | undefined {
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (r.error) return "iproute2 (ip) not installed";
  if (r.status !== 0) return `ip netns does not work here: ${r.stderr.trim()}`;
  return undefined;
}

export function createNetnsPair(): NetnsPair {
  const n = counter++;
  const id = `${process.pid}-${n}`;
  const nsA = `tsbpf-${id}-a`;
  const nsB = `tsbpf-${id}-b`;
  // Interface names are limited to 15 bytes; they only need to be unique until moved.
  const tag = `${(process.pid % 100000).toString(36)}${n.toString(36)}`;
  const ifA = `tsa${tag}`;
  const ifB = `tsb${tag}`;
  const subnet = `10.${200 + (process.pid % 50)}.${n % 250}`;
  const ipA = `${subnet}.1`;
  const ipB = `${subnet}.2`;

  let closed = false;
  const pair: NetnsPair = {
    nsA,
    nsB,
    ifA,
    ifB,
    ipA,
    ipB,
    exec(ns, cmd, args, opts = {}) {
      return run(
        "ip",
        ["netns", "exec", ns === "a" ? nsA : nsB, cmd, ...args],
        opts.allowFail,
        opts.timeoutMs,
      );
    },
    ping(from, count = 3) {
      const r = pair.exec(
        from,
        "ping",
        ["-c", String(count), "-i", "0.2", "-W", "1", from === "a" ? ipB : ipA],
        { allowFail: true },
      );
      const m = /(\d+) received/.exec(r.stdout);
      return m ? Number(m[1]) : 0;
    },
    close() {
      if (closed) return;
      closed = true;
      live.delete(pair);
      run("ip", ["netns", "del", nsA], true);
      run("ip", ["netns", "del", nsB], true);
    },
    [Symbol.dispose]() {
      pair.close();
    },
  };

  live.add(pair);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const p of [...live]) p.close();
    });
  }
  try {
    run("ip", ["netns", "add", nsA]);
    run("ip", ["netns", "add", nsB]);
    run("ip", [
      "link",
      "add",
      ifA,
      "netns",
      nsA,
      "type",
      "veth",
      "peer",
      "name",
      ifB,
      "netns",
      nsB,
    ]);
    for (const [ns, ifc, ip] of [
      [nsA, ifA, ipA],
      [nsB, ifB, ipB],
    ] as const) {
      run("ip", ["-n", ns, "addr", "add", `${ip}/24`, "dev", ifc]);
      run("ip", ["-n", ns, "link", "set", ifc, "up"]);
      run("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
  } catch (e) {
    pair.close();
    throw e;
  }
  return pair;
}
