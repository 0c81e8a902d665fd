// The high-level loader, in the shape of RedBPF's `Loader`: load an object, attach every
// program where its section says, and expose the events of every perf/ring map as one
// async iterable of `{ map, events }` batches.
//
//   await using loaded = await Loader.create().xdp("eth0").loadFile("trace_http.elf");
//   for await (const { map, events } of loaded.events) …
import { Collection, LoadError, type CollectionOptions } from "./collection.js";
import type { BpfMap } from "../map/map.js";
import type { Program } from "./program.js";
import {
  sectionNamesProbeTarget,
  type AttachOptions,
  type Link,
  type XdpMode,
} from "../link/index.js";
import { MapType } from "../obj/consts.js";
import {
  mergeReaders,
  RingBufReader,
  PerfReader,
  type EventBatch,
  type EventReader,
} from "../reader/index.js";

export interface XdpOptions {
  /** attach mode; default lets the kernel pick (native when the driver supports it) */
  mode?: XdpMode;
}

export interface LoaderConfig {
  iface?: string;
  xdp?: XdpOptions;
  binary?: string;
  symbol?: string;
  pid?: number;
  cgroup?: string;
  /** attach options for every program, under the ones above */
  defaults: AttachOptions;
  /** per-program attach options, over the ones above */
  perProgram: Record<string, AttachOptions>;
  collection: CollectionOptions;
  /** programs not to attach (they are still loaded) */
  skipAttach: Set<string>;
  /** open readers with `copy: true` so events outlive their batch */
  copyEvents: boolean;
  perfPageCount?: number;
}

/** Builder for a load: say where things attach, then `load`/`loadFile`. */
export class Loader {
  readonly #config: LoaderConfig;

  private constructor(config: LoaderConfig) {
    this.#config = config;
  }

  static create(): Loader {
    return new Loader({
      collection: {},
      skipAttach: new Set(),
      copyEvents: false,
      defaults: {},
      perProgram: {},
    });
  }

  #with(change: Partial<LoaderConfig>): Loader {
    return new Loader({ ...this.#config, ...change });
  }

  /** XDP programs attach to this interface. */
  xdp(iface: string, opts: XdpOptions = {}): Loader {
    return this.#with({ iface, xdp: opts });
  }

  /** TC programs attach to this interface (same as the XDP one when both are given). */
  iface(iface: string): Loader {
    return this.#with({ iface });
  }

  /**
   * uprobes whose section names no target attach to `symbol` (or the section's symbol) in
   * this binary or library, optionally only in process `pid`.
   */
  uprobe(binary: string, opts: { symbol?: string; pid?: number } = {}): Loader {
    return this.#with({
      binary,
      ...(opts.symbol !== undefined && { symbol: opts.symbol }),
      ...(opts.pid !== undefined && { pid: opts.pid }),
    });
  }

  /** cgroup programs attach to this cgroup v2 directory. */
  cgroup(path: string): Loader {
    return this.#with({ cgroup: path });
  }

  /** Options for the underlying Collection load (globals, pin path, log level…). */
  options(opts: CollectionOptions): Loader {
    return this.#with({ collection: { ...this.#config.collection, ...opts } });
  }

  /**
   * Attach options for every program whose section does not say (e.g. `{ tracepoint }` for a
   * bare `SEC("tracepoint")`, `{ direction: "egress" }` for tc); the other methods win.
   */
  attachDefaults(opts: AttachOptions): Loader {
    return this.#with({ defaults: { ...this.#config.defaults, ...opts } });
  }

  /** Attach options for one program, over the loader-wide ones (e.g. a socket fd, a tc direction). */
  attachOptions(program: string, opts: AttachOptions): Loader {
    return this.#with({
      perProgram: {
        ...this.#config.perProgram,
        [program]: { ...this.#config.perProgram[program], ...opts },
      },
    });
  }

  /** Load but do not attach these programs. */
  skip(...programs: string[]): Loader {
    return this.#with({ skipAttach: new Set([...this.#config.skipAttach, ...programs]) });
  }

  /** Pages per CPU of each perf event array's ring (a power of two; default 32). */
  perfPages(pages: number): Loader {
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0 || pages > 1 << 18)
      throw new LoadError(
        `perfPages(${pages}): the perf ring size must be a power of two number of pages (1, 2, 4 … 262144; default 32)`,
      );
    return this.#with({ perfPageCount: pages });
  }

  /** Events are copies that outlive their batch (default: zero-copy views). */
  copyEvents(copy = true): Loader {
    return this.#with({ copyEvents: copy });
  }

  async loadFile(path: string): Promise<Loaded> {
    return Loaded.start(await Collection.loadFile(path, this.#config.collection), this.#config);
  }

  async load(bytes: Uint8Array): Promise<Loaded> {
    return Loaded.start(Collection.load(bytes, this.#config.collection), this.#config);
  }
}

/** A loaded and attached object. Dispose it (or call close) to detach and unload. */
export class Loaded implements Disposable, AsyncDisposable {
  readonly collection: Collection;
  /** attached programs with their links, in load order */
  readonly links: ReadonlyArray<{ program: Program; link: Link }>;
  readonly #readers: EventReader[];
  #events: AsyncIterable<EventBatch> | undefined;
  #closed = false;

  private constructor(
    collection: Collection,
    links: { program: Program; link: Link }[],
    readers: EventReader[],
  ) {
    this.collection = collection;
    this.links = links;
    this.#readers = readers;
  }

  static start(collection: Collection, config: LoaderConfig): Loaded {
    const links: { program: Program; link: Link }[] = [];
    const readers: EventReader[] = [];
    try {
      const opts: AttachOptions = {
        ...config.defaults,
        ...(config.iface !== undefined && { iface: config.iface }),
        ...(config.xdp?.mode !== undefined && { mode: config.xdp.mode }),
        ...(config.binary !== undefined && { binary: config.binary }),
        ...(config.symbol !== undefined && { symbol: config.symbol }),
        ...(config.pid !== undefined && { pid: config.pid }),
        ...(config.cgroup !== undefined && { cgroup: config.cgroup }),
      };
      for (const name of [...config.skipAttach, ...Object.keys(config.perProgram)])
        collection.program(name); // throws naming the programs there are
      let symbolUsed = false;
      for (const program of collection.programs.values()) {
        if (config.skipAttach.has(program.name)) continue;
        const info = program.sectionInfo;
        // The loader-wide symbol (tsbpf load -s) is for sections that name no function.
        const named = info !== undefined && sectionNamesProbeTarget(info);
        if (info && /^(u|k)(ret)?probe$|^k(ret)?syscall$/.test(info.kind)) symbolUsed ||= !named;
        const { symbol: _unused, usdt: _usdt, ...unnamed } = opts;
        links.push({
          program,
          link: program.attach({ ...(named ? unnamed : opts), ...config.perProgram[program.name] }),
        });
      }
      // Sections that name their own function win over --symbol: say so when it went unused.
      if (opts.symbol !== undefined && !symbolUsed && links.length > 0)
        config.collection.onWarning?.(
          `symbol ${opts.symbol} was not used: every probe section of the object names its own function`,
        );
      for (const [name, map] of collection.maps) {
        const source = { fd: map.fd, maxEntries: map.maxEntries, name, type: map.type };
        if (map.type === MapType.RINGBUF)
          readers.push(RingBufReader.open(source, { copy: config.copyEvents }));
        else if (map.type === MapType.PERF_EVENT_ARRAY)
          readers.push(
            PerfReader.open(source, {
              copy: config.copyEvents,
              ...(config.perfPageCount !== undefined && { pageCount: config.perfPageCount }),
            }),
          );
      }
    } catch (e) {
      for (const r of readers) r.close();
      for (const { link } of links.reverse()) link.close();
      collection.close();
      throw e;
    }
    return new Loaded(collection, links, readers);
  }

  get maps(): ReadonlyMap<string, BpfMap> {
    return this.collection.maps;
  }

  /** The event readers behind `events`: a RingBufReader or PerfReader per event map. */
  get readers(): readonly EventReader[] {
    return this.#readers;
  }

  get programs(): ReadonlyMap<string, Program> {
    return this.collection.programs;
  }

  map(name: string): BpfMap {
    return this.collection.map(name);
  }

  program(name: string): Program {
    return this.collection.program(name);
  }

  /**
   * Batches of events from every ring buffer and perf event array of the object, as they
   * arrive: `{ map, events, lost }`. Ends when the loaded object is closed. Unless the loader
   * was built with `copyEvents()`, each event is a view valid until the next batch.
   */
  get events(): AsyncIterable<EventBatch> {
    this.#events ??= mergeReaders(this.#readers);
    return this.#events;
  }

  /** Detach every program, stop the readers, close maps and programs. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.#readers) r.close();
    for (const { link } of [...this.links].reverse()) link.close();
    this.collection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
