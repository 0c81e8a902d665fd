// `tsbpf export OBJECT --config FILE` / `tsbpf agent …`: load and attach the object, serve its
// maps on /metrics (and push OTLP), reload on SIGHUP, detach everything on SIGTERM/SIGINT and
// exit 0. As the agent (--daemon), every log line is one JSON object on stderr.
import { hostname } from "node:os";
import { Loader } from "../load/loader.js";
import type { Listen } from "../export/prometheus.js";
import type { ExportCliOptions } from "./export-commands.js";
// Errors propagate to bin.ts, which reports them (one line for user errors): no import of
// main.ts here, so this module stays out of the CLI's import cycle.
import { UsageError } from "./usage-error.js";

function parseListen(opts: ExportCliOptions): Listen | undefined {
  if (opts.listenFd !== undefined) return { fd: opts.listenFd };
  // systemd socket activation: the first passed socket is fd 3.
  if (process.env.LISTEN_FDS !== undefined && Number(process.env.LISTEN_PID) === process.pid)
    return { fd: 3 };
  if (opts.listen === false) return undefined;
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(opts.listen);
  if (!m || Number(m[2]) > 65535)
    throw new UsageError(`--listen ${opts.listen}: expected host:port (0.0.0.0:9435, [::]:9435)`);
  return { host: m[1] === "" ? "0.0.0.0" : m[1]!, port: Number(m[2]) };
}

function pairs(list: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError(`${what} ${kv}: expected key=value`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export async function runExport(object: string, opts: ExportCliOptions): Promise<number> {
  const listen = parseListen(opts);
  if (!listen && opts.otlp === undefined)
    throw new UsageError("--no-listen without --otlp exports nothing: give one of them");
  const daemon = opts.daemon === true;
  const log = (message: string, fields: Record<string, unknown> = {}) =>
    process.stderr.write(
      daemon
        ? JSON.stringify({ ts: new Date().toISOString(), msg: message, ...fields }) + "\n"
        : `${message}${Object.keys(fields).length ? " " + JSON.stringify(fields) : ""}\n`,
    );

  let loader = Loader.create().options({
    onWarning: (m) => log(`warning: ${m}`),
    ...(opts.btf !== undefined && { btfPath: opts.btf }),
  });
  if (opts.interface !== undefined)
    loader = loader.xdp(opts.interface, opts.xdpMode ? { mode: opts.xdpMode } : {});
  if (opts.uprobePath !== undefined) loader = loader.uprobe(opts.uprobePath);
  if (opts.cgroup !== undefined) loader = loader.cgroup(opts.cgroup);
  loader = loader.attachDefaults({
    ...(opts.symbol !== undefined && { symbol: opts.symbol }),
    ...(opts.tracepoint !== undefined && { tracepoint: opts.tracepoint }),
  });

  const resource = {
    "service.name": "tsbpf-agent",
    "host.name": process.env.NODE_NAME ?? hostname(),
    ...(process.env.NODE_NAME !== undefined && { "k8s.node.name": process.env.NODE_NAME }),
    ...pairs(opts.resource, "--resource"),
  };
  const { Agent } = await import("../export/agent.js");
  const agent = await Agent.start({
    object,
    config: opts.config,
    loader,
    ...(listen && { listen }),
    ...(opts.otlp !== undefined && {
      otlp: {
        url: opts.otlp,
        intervalMs: opts.otlpInterval,
        resource,
        headers: pairs(opts.otlpHeader, "--otlp-header"),
      },
    }),
    log,
  });
  if (agent.address)
    log(`serving metrics on http://${agent.address}/metrics`, { pid: process.pid });
  if (opts.otlp) log(`pushing OTLP metrics to ${opts.otlp} every ${opts.otlpInterval} ms`);

  let reloading = Promise.resolve();
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGHUP", hup);
      void reloading.then(() => resolve());
    };
    const hup = () => {
      reloading = reloading.then(async () => {
        try {
          await agent.reload();
          log("reloaded");
        } catch (e) {
          log(`reload failed: ${(e as Error).message}`);
        }
      });
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    process.on("SIGHUP", hup);
  });
  await agent.close();
  log("detached, exiting");
  return 0;
}
