// `tsbpf export` and `tsbpf agent`: the options (commander only); the work is in export.ts,
// imported when one of them runs.
import { type Command, InvalidArgumentError, Option } from "commander";

export interface ExportCliOptions {
  config: string;
  interface?: string;
  xdpMode?: "skb" | "drv" | "hw";
  cgroup?: string;
  symbol?: string;
  uprobePath?: string;
  tracepoint?: string;
  btf?: string;
  listen: string | false;
  listenFd?: number;
  otlp?: string;
  otlpInterval: number;
  otlpHeader: string[];
  resource: string[];
  daemon?: boolean;
}

const int = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${what} must be a non-negative integer`);
  return n;
};
const collect = (v: string, prev: string[]) => [...prev, v];

function options(c: Command): Command {
  return c
    .argument("<object>", "eBPF ELF object (built ahead of time)")
    .requiredOption("--config <file>", "metrics to export: JSON or YAML (docs/fleet.md)")
    .option("-i, --interface <iface>", "network interface for XDP and TC programs")
    .addOption(new Option("--xdp-mode <mode>", "XDP attach mode").choices(["skb", "drv", "hw"]))
    .option("-c, --cgroup <path>", "cgroup v2 directory for cgroup programs")
    .option("-s, --symbol <name>", "function for uprobes and kprobes whose section names none")
    .option("-u, --uprobe-path <binary>", "binary or library for uprobes whose section names none")
    .option("--tracepoint <name>", "tracepoint (CATEGORY/NAME) for bare sections")
    .option("--btf <file>", "the kernel's BTF for CO-RE relocations (default /sys/kernel/btf)")
    .option("--listen <host:port>", "serve /metrics and /healthz here", "127.0.0.1:9435")
    .option("--no-listen", "serve nothing (OTLP push only)")
    .option(
      "--listen-fd <fd>",
      "serve on this inherited listening socket (also LISTEN_FDS)",
      int("--listen-fd"),
    )
    .option(
      "--otlp <url>",
      "push OTLP metrics (http/protobuf) here, e.g. http://collector:4318/v1/metrics",
    )
    .option("--otlp-interval <ms>", "OTLP export period", int("--otlp-interval"), 10_000)
    .option("--otlp-header <k=v>", "header for OTLP requests (repeat)", collect, [])
    .option(
      "--resource <k=v>",
      "OTLP resource attribute (repeat; default service.name, host.name)",
      collect,
      [],
    );
}

export function registerExportCommands(cli: Command): void {
  options(
    cli
      .command("export")
      .description("serve an object's maps as Prometheus/OpenMetrics metrics (and push OTLP)"),
  )
    .option("--daemon", "run as the agent: JSON log lines (same as tsbpf agent)")
    .action(async (object: string, opts: ExportCliOptions) => {
      const { runExport } = await import("./export.js");
      process.exitCode = await runExport(object, opts);
    });
  options(
    cli
      .command("agent")
      .description(
        "tsbpf export as a node agent: load, attach, serve metrics; SIGHUP reloads, SIGTERM detaches",
      ),
  ).action(async (object: string, opts: ExportCliOptions) => {
    const { runExport } = await import("./export.js");
    process.exitCode = await runExport(object, { ...opts, daemon: true });
  });
}
