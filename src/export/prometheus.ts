// Prometheus / OpenMetrics text on /metrics, through prom-client (an optional dependency,
// imported only here): each metric is a prom-client metric object whose values come from the
// last map read, so prom-client writes the exposition format (escaping, TYPE/HELP, `le`,
// `_total` in OpenMetrics, `# EOF`). One map read per scrape; scrapes are serialized.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Collected } from "./collector.js";
import { optionalImport } from "./config.js";
import type { MetricSpec } from "./spec.js";

type PromClient = typeof import("prom-client");
type Registry = InstanceType<PromClient["Registry"]>;

/** What /metrics serves: the collected series of each metric, read when a scrape arrives. */
export type CollectFn = () => Collected[];

interface Value {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/** `le` as Prometheus writes it ("+Inf" above the last bound). */
export function formatLe(v: number): string {
  return v === Infinity ? "+Inf" : String(v);
}

/** The samples of one metric in prom-client's shape. */
export function promValues(c: Collected, name: string): Value[] {
  if (c.spec.type !== "histogram")
    return (c.series as { labels: Record<string, string>; value: number }[]).map((s) => ({
      value: s.value,
      labels: s.labels,
    }));
  const out: Value[] = [];
  for (const s of c.series as import("./collector.js").HistogramSeries[]) {
    let cum = 0;
    s.bounds.forEach((le, i) => {
      cum += s.counts[i]!;
      out.push({
        metricName: `${name}_bucket`,
        labels: { ...s.labels, le: formatLe(le) },
        value: cum,
      });
    });
    out.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le: "+Inf" }, value: s.count });
    if (s.sum !== undefined)
      out.push({ metricName: `${name}_sum`, labels: s.labels, value: s.sum });
    out.push({ metricName: `${name}_count`, labels: s.labels, value: s.count });
  }
  return out;
}

/**
 * Two prom-client registries over the same data: Prometheus text 0.0.4 (counters named
 * `<name>_total`) and OpenMetrics 1.0 (family `<name>`, samples `<name>_total`, `# UNIT`).
 */
export class Exposition {
  private snapshot = new Map<string, Collected>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly units = new Map<string, string>();

  private constructor(
    private readonly prom: Registry,
    private readonly open: Registry,
    private readonly collect: CollectFn,
  ) {}

  static async create(specs: readonly MetricSpec[], collect: CollectFn): Promise<Exposition> {
    const client = await optionalImport<PromClient>("prom-client", "Prometheus metrics");
    const prom = new client.Registry();
    const open = new client.Registry();
    open.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE as never);
    const e = new Exposition(prom, open, collect);
    for (const s of specs) e.add(s);
    return e;
  }

  /** Registers one more metric (the agent's own). */
  add(spec: Pick<MetricSpec, "name" | "help" | "type" | "unit">): void {
    if (spec.unit) this.units.set(spec.name, spec.unit);
    const make = (name: string) => {
      const current = (): Collected | undefined => this.snapshot.get(spec.name);
      const metric = {
        name,
        help: spec.help,
        type: spec.type,
        aggregator: "sum",
        collect: undefined,
        async get() {
          const c = current();
          return {
            name: metric.name,
            help: spec.help,
            type: spec.type,
            aggregator: "sum",
            values: c ? promValues(c, metric.name) : [],
          };
        },
        reset() {},
      };
      return metric;
    };
    const promName = spec.type === "counter" ? `${spec.name}_total` : spec.name;
    this.prom.registerMetric(make(promName) as never);
    this.open.registerMetric(make(spec.name) as never);
  }

  /** Reads the maps and renders; `openMetrics` picks the format. */
  render(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    const run = async () => {
      this.snapshot = new Map(this.collect().map((c) => [c.spec.name, c]));
      const reg = openMetrics ? this.open : this.prom;
      let body = await reg.metrics();
      if (openMetrics)
        for (const [name, unit] of this.units) {
          const re = new RegExp(`^(# TYPE ${name} [a-z]+)$`, "m");
          body = body.replace(re, `$1\n# UNIT ${name} ${unit}`);
        }
      return { contentType: reg.contentType, body };
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }
}

/** Whether the Accept header asks for OpenMetrics (as Prometheus ≥ 2.5 does). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && /application\/openmetrics-text/.test(accept);
}

export type Listen = { host: string; port: number } | { fd: number };

export interface MetricsServerOptions {
  /** the exposition to serve (a function: the agent swaps it on reload) */
  exposition: () => Exposition;
  /** /healthz: 200 while it returns true, else 503 */
  healthy?: () => boolean;
  /** called with each failed scrape's error (the response is a 500) */
  onError?: (e: unknown) => void;
}

/** An HTTP server for /metrics and /healthz. */
export class MetricsServer {
  private constructor(readonly server: Server) {}

  static start(listen: Listen, opts: MetricsServerOptions): Promise<MetricsServer> {
    const server = createServer((req, res) => void handle(req, res, opts));
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      const ready = () => {
        server.off("error", reject);
        resolve(new MetricsServer(server));
      };
      if ("fd" in listen) server.listen({ fd: listen.fd }, ready);
      else server.listen(listen.port, listen.host, ready);
    });
  }

  /** host:port it listens on */
  get address(): string {
    const a = this.server.address() as AddressInfo | null;
    return a ? `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}` : "";
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  opts: MetricsServerOptions,
): Promise<void> {
  const url = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  if (url === "/metrics") {
    try {
      const { contentType, body } = await opts
        .exposition()
        .render(wantsOpenMetrics(req.headers.accept));
      res
        .writeHead(200, { "content-type": contentType })
        .end(req.method === "HEAD" ? undefined : body);
    } catch (e) {
      opts.onError?.(e);
      res
        .writeHead(500, { "content-type": "text/plain" })
        .end(`collecting metrics failed: ${(e as Error).message}\n`);
    }
    return;
  }
  if (url === "/healthz") {
    const ok = opts.healthy?.() ?? true;
    res
      .writeHead(ok ? 200 : 503, { "content-type": "text/plain" })
      .end(ok ? "ok\n" : "unhealthy\n");
    return;
  }
  if (url === "/") {
    res
      .writeHead(200, { "content-type": "text/html" })
      .end(
        '<html><body><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></body></html>\n',
      );
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics\n");
}
