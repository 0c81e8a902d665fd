// Debian's `prometheus` server for tests: started on 127.0.0.1 with a temporary config and
// data directory, queried through its HTTP API, stopped (and its files removed) by close().
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Why prometheus cannot run here (the binary is missing), or undefined. */
export function prometheusUnavailable(): string | undefined {
  const r = spawnSync("prometheus", ["--version"], { encoding: "utf8" });
  if (r.error)
    return "the prometheus binary is not installed (Debian package prometheus: make deps)";
  return undefined;
}

/** A free TCP port on 127.0.0.1 (bound and released: good enough for a test on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Target {
  address: string;
  labels: Record<string, string>;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export class Prometheus {
  private stderr = "";
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    child.stderr?.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000);
    });
  }

  /** Starts prometheus scraping `targets` every `interval` and waits until it is ready. */
  static async start(
    targets: Target[],
    opts: { job: string; interval: string },
  ): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), `tsbpf-prom-${process.pid}-`));
    const config = [
      "global:",
      `  scrape_interval: ${opts.interval}`,
      `  scrape_timeout: ${opts.interval}`,
      `  evaluation_interval: ${opts.interval}`,
      "scrape_configs:",
      `  - job_name: ${opts.job}`,
      "    static_configs:",
      ...targets.flatMap((t) => [
        `      - targets: ["${t.address}"]`,
        "        labels:",
        ...Object.entries(t.labels).map(([k, v]) => `          ${k}: "${v}"`),
      ]),
    ].join("\n");
    writeFileSync(join(dir, "prometheus.yml"), config + "\n");
    const port = await freePort();
    const child = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--web.console.templates=" + join(dir, "consoles"),
        "--web.console.libraries=" + join(dir, "console_libraries"),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const p = new Prometheus(`http://127.0.0.1:${port}`, child, dir);
    try {
      await p.waitReady();
    } catch (e) {
      await p.close();
      throw e;
    }
    return p;
  }

  get log(): string {
    return this.stderr;
  }

  private async waitReady(): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (this.child.exitCode !== null)
        throw new Error(`prometheus exited (${this.child.exitCode}):\n${this.stderr}`);
      try {
        const r = await fetch(`${this.url}/-/ready`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`prometheus did not become ready in 60 s:\n${this.stderr}`);
  }

  /** An instant query (at `time`, seconds since the epoch, default now): the vector's samples. */
  async query(q: string, time?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({
      query: q,
      ...(time !== undefined && { time: String(time) }),
    });
    const r = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await r.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: { metric: Record<string, string>; value?: [number, string] }[];
      };
    };
    if (body.status !== "success") throw new Error(`query ${q} failed: ${body.error}`);
    if (body.data!.resultType !== "vector")
      throw new Error(`query ${q}: expected a vector, got ${body.data!.resultType}`);
    return body.data!.result.map((s) => ({ metric: s.metric, value: Number(s.value![1]) }));
  }

  /** A range-vector selector evaluated at `time`: each series' raw samples [t (s), v]. */
  async rawRange(
    selector: string,
    time: number,
  ): Promise<{ metric: Record<string, string>; values: [number, number][] }[]> {
    const params = new URLSearchParams({ query: selector, time: String(time) });
    const r = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await r.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: { metric: Record<string, string>; values: [number, string][] }[];
      };
    };
    if (body.status !== "success" || body.data!.resultType !== "matrix")
      throw new Error(`query ${selector} failed: ${body.error ?? body.data?.resultType}`);
    return body.data!.result.map((s) => ({
      metric: s.metric,
      values: s.values.map(([t, v]) => [t, Number(v)]),
    }));
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
