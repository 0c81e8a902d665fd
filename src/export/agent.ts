// The agent: load an object, attach it, serve its maps as metrics (and push them over OTLP),
// reload on request, detach everything on close. It also reports on itself: up, CPU and
// resident memory, events and losses of the object's ring/perf buffers, reloads, collection
// errors and time. The CLI (`tsbpf agent` / `tsbpf export`) wires signals to reload/close.
import { readFileSync } from "node:fs";
import { Loader, type Loaded } from "../load/loader.js";
import { parseObject } from "../obj/object.js";
import { MapCollector, type Collected } from "./collector.js";
import { readConfig } from "./config.js";
import { ExportError } from "./errors.js";
import { startOtlpPush, type OtlpOptions, type OtlpPush } from "./otlp.js";
import { Exposition, MetricsServer, type Listen } from "./prometheus.js";
import type { ExporterDefinition, MetricSpec } from "./spec.js";

export interface AgentOptions {
  /** the eBPF object file (built ahead of time) */
  object: string;
  /** a config file path (read again on reload), or a definition written in TypeScript */
  config: string | ExporterDefinition;
  /** how to attach (interface, cgroup…); default Loader.create() */
  loader?: Loader;
  /** where to serve /metrics; omit for none */
  listen?: Listen;
  /** push OTLP metrics too */
  otlp?: OtlpOptions;
  /** one line per thing that happened (loads, reloads, errors) */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

type Self = { spec: Pick<MetricSpec, "name" | "help" | "type" | "unit"> };

/** The agent's own metrics. */
export const SELF_METRICS: readonly Self["spec"][] = [
  { name: "tsbpf_agent_up", type: "gauge", help: "1 while the probe is loaded and attached" },
  { name: "tsbpf_agent_programs_attached", type: "gauge", help: "programs attached" },
  {
    name: "process_cpu_seconds",
    type: "counter",
    unit: "seconds",
    help: "user and system CPU time of the agent",
  },
  {
    name: "process_resident_memory_bytes",
    type: "gauge",
    unit: "bytes",
    help: "resident memory of the agent",
  },
  {
    name: "tsbpf_agent_events",
    type: "counter",
    help: "events read from the probe's ring and perf buffers",
  },
  {
    name: "tsbpf_agent_events_lost",
    type: "counter",
    help: "events the kernel dropped because a buffer was full",
  },
  { name: "tsbpf_agent_reloads", type: "counter", help: "reloads, by result" },
  { name: "tsbpf_agent_collect_errors", type: "counter", help: "map reads that failed" },
  {
    name: "tsbpf_agent_collect_duration_seconds",
    type: "gauge",
    unit: "seconds",
    help: "time the last read of the maps took",
  },
  { name: "tsbpf_agent_series", type: "gauge", help: "series the last read of the maps produced" },
];

interface Running {
  def: ExporterDefinition;
  bytes: Uint8Array;
  loaded: Loaded;
  collector: MapCollector;
  exposition: Exposition;
  drained: Promise<void>;
}

export class Agent {
  private running: Running | undefined;
  /** what /metrics serves: the running probe's, or the last one's while none runs (up = 0) */
  private exposition: Exposition | undefined;
  private server: MetricsServer | undefined;
  private otlp: OtlpPush | undefined;
  private readonly events = new Map<string, number>();
  private readonly lost = new Map<string, number>();
  private reloads = { success: 0, failure: 0 };
  private collectErrors = 0;
  private closed = false;
  private readonly log: NonNullable<AgentOptions["log"]>;

  private constructor(private readonly opts: AgentOptions) {
    this.log = opts.log ?? (() => {});
  }

  /** Loads, attaches, starts serving (and pushing). Throws when the first load fails. */
  static async start(opts: AgentOptions): Promise<Agent> {
    const agent = new Agent(opts);
    agent.running = await agent.load();
    agent.exposition = agent.running.exposition;
    try {
      if (opts.listen)
        agent.server = await MetricsServer.start(opts.listen, {
          exposition: () => agent.exposition!,
          healthy: () => agent.healthy,
          onError: (e) => agent.log(`collecting metrics failed: ${(e as Error).message}`),
        });
      if (opts.otlp) agent.otlp = await startOtlpPush(() => agent.collectAll(), opts.otlp);
    } catch (e) {
      await agent.close();
      throw e;
    }
    return agent;
  }

  /** host:port of the metrics server */
  get address(): string | undefined {
    return this.server?.address;
  }

  get healthy(): boolean {
    return !this.closed && this.running !== undefined && this.running.loaded.links.length > 0;
  }

  private async definition(): Promise<ExporterDefinition> {
    return typeof this.opts.config === "string"
      ? await readConfig(this.opts.config)
      : this.opts.config;
  }

  /** Reads config and object, loads, attaches, binds the metrics. */
  private async load(previous?: Running): Promise<Running> {
    const def = previous?.def ?? (await this.definition());
    let bytes: Uint8Array;
    try {
      bytes = previous?.bytes ?? readFileSync(this.opts.object);
    } catch (e) {
      throw new ExportError(`cannot read the object ${this.opts.object}: ${(e as Error).message}`);
    }
    const object = parseObject(bytes);
    const loaded = await (this.opts.loader ?? Loader.create()).load(bytes);
    try {
      const collector = MapCollector.bind(def, { maps: loaded.maps, object });
      const exposition = await Exposition.create(collector.specs, () => this.collectAll());
      for (const s of SELF_METRICS) exposition.add(s);
      const drained = this.drain(loaded);
      this.log(`loaded ${this.opts.object}`, {
        programs: loaded.links.map((l) => l.program.name),
        metrics: collector.specs.map((s) => s.name),
      });
      return { def, bytes, loaded, collector, exposition, drained };
    } catch (e) {
      loaded.close();
      throw e;
    }
  }

  /** Counts the events of every ring/perf buffer (the agent is their consumer). */
  private async drain(loaded: Loaded): Promise<void> {
    if (loaded.readers.length === 0) return;
    try {
      for await (const b of loaded.events) {
        this.events.set(b.map, (this.events.get(b.map) ?? 0) + b.events.length);
        if (b.lost > 0) this.lost.set(b.map, (this.lost.get(b.map) ?? 0) + b.lost);
      }
    } catch (e) {
      if (!this.closed) this.log(`reading events failed: ${(e as Error).message}`);
    }
  }

  /** Every metric: the maps' and the agent's own. */
  collectAll(): Collected[] {
    const r = this.running;
    let maps: Collected[] = [];
    if (r) {
      try {
        maps = r.collector.collect();
      } catch (e) {
        this.collectErrors++;
        throw e;
      }
    }
    return [...maps, ...this.selfMetrics()];
  }

  private selfMetrics(): Collected[] {
    const r = this.running;
    const cpu = process.cpuUsage();
    const g = (name: string, value: number, labels: Record<string, string> = {}) =>
      ({ spec: spec(name), series: [{ labels, value }] }) as Collected;
    const perMap = (name: string, m: Map<string, number>) =>
      ({
        spec: spec(name),
        series: [...m].map(([map, value]) => ({ labels: { map }, value })),
      }) as Collected;
    const stats = r?.collector.stats;
    return [
      g("tsbpf_agent_up", this.healthy ? 1 : 0),
      g("tsbpf_agent_programs_attached", r?.loaded.links.length ?? 0),
      g("process_cpu_seconds", (cpu.user + cpu.system) / 1e6),
      g("process_resident_memory_bytes", process.memoryUsage.rss()),
      perMap("tsbpf_agent_events", this.events),
      perMap("tsbpf_agent_events_lost", this.lost),
      {
        spec: spec("tsbpf_agent_reloads"),
        series: [
          { labels: { result: "success" }, value: this.reloads.success },
          { labels: { result: "failure" }, value: this.reloads.failure },
        ],
      } as Collected,
      g("tsbpf_agent_collect_errors", this.collectErrors),
      g("tsbpf_agent_collect_duration_seconds", stats?.lastSeconds ?? 0),
      g("tsbpf_agent_series", stats?.lastSeries ?? 0),
    ];
  }

  /**
   * Reads the config and object again and swaps them in: the new config is checked against
   * the object before the old probe is detached; when the new one fails to load, the old one
   * is loaded again (and the error thrown).
   */
  async reload(): Promise<void> {
    if (this.closed) return;
    const old = this.running;
    try {
      // Check the new definition against the new object before detaching anything.
      const def = await this.definition();
      const object = parseObject(readFileSync(this.opts.object));
      checkAgainstObject(def, object);
    } catch (e) {
      this.reloads.failure++;
      throw e;
    }
    if (old) {
      old.loaded.close();
      await old.drained;
    }
    this.running = undefined;
    try {
      this.running = await this.load();
      this.exposition = this.running.exposition;
      this.reloads.success++;
    } catch (e) {
      this.reloads.failure++;
      this.log(`reload failed, loading the previous probe again: ${(e as Error).message}`);
      if (old) {
        this.running = await this.load(old);
        this.exposition = this.running.exposition;
      }
      throw e;
    }
  }

  /** Stops serving and pushing (a last OTLP export first), detaches and closes everything. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.otlp) {
      try {
        await this.otlp.shutdown();
      } catch (e) {
        this.log(`last OTLP export failed: ${(e as Error).message}`);
      }
    }
    this.closed = true;
    await this.server?.close();
    const r = this.running;
    this.running = undefined;
    if (r) {
      r.loaded.close();
      await r.drained;
    }
  }
}

function spec(name: string): MetricSpec {
  const s = SELF_METRICS.find((m) => m.name === name)!;
  return { ...s, map: "", labels: [] } as MetricSpec;
}

/** The checks bind() makes that need only the object (map names), before anything is loaded. */
function checkAgainstObject(def: ExporterDefinition, object: ReturnType<typeof parseObject>): void {
  const names = new Set(object.maps.map((m) => m.name));
  for (const m of def.metrics) {
    const s = "spec" in m ? m.spec : m;
    if (!names.has(s.map))
      throw new ExportError(
        `metric ${s.name}: the object has no map "${s.map}" (its maps: ${[...names].join(", ")})`,
      );
  }
}
