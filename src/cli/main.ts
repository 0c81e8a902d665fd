// The `tsbpf` command: thin over the library. Each subcommand imports what it needs lazily so
// `tsbpf inspect` does not pay for the TypeScript compiler and `tsbpf build` needs no addon.
import { readFile } from "node:fs/promises";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { registerExportCommands } from "./export-commands.js";
import pc from "picocolors";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { version } = require("../../../package.json") as { version: string };

export { UsageError } from "./usage-error.js";
import { UsageError } from "./usage-error.js";
import { registerObjectCommands } from "./objects.js";
// static: the build snapshot bundles main.ts's lazy imports only for `build` itself
import { watchBuild } from "./build-watch.js";
import { reportError } from "./errors.js";
export { clipLog, isUserError, reportError } from "./errors.js";

async function readObject(file: string) {
  const { parseObject } = await import("../obj/object.js");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT" ? `no such file: ${file}` : `cannot read ${file}: ${(e as Error).message}`,
    );
  }
  return parseObject(bytes);
}

const int = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${what} must be a non-negative integer`);
  return n;
};

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`${what} must be a positive number`);
  return n;
};

export function program(): Command {
  const cli = new Command("tsbpf")
    .description("Write eBPF programs in TypeScript, build them, load them, stream their events.")
    .version(version)
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(pc.red(s)) })
    // Usage mistakes exit 2 (help and --version exit 0); inherited by the subcommands.
    .exitOverride((e) => {
      throw e.exitCode === 0 ? e : new CommanderError(USAGE_EXIT, e.code, e.message);
    });

  cli
    .command("build")
    .description(
      "compile TypeScript probes to eBPF objects (target/bpf-programs/<name>/<name>.elf) and their typed skeletons (<name>.skel.ts)",
    )
    .argument(
      "[entries...]",
      "probe source files (default: the probes listed in package.json, else ./probe.ts, else src/**/probe.ts)",
    )
    .option("-o, --out-dir <dir>", "output directory", "target/bpf-programs")
    .option(
      "--embed",
      "put the object's bytes into its typed skeleton (<name>.skel.ts), so a loader is one file to deploy",
    )
    .option("-w, --watch", "build, then rebuild whenever a .ts file here changes, until Ctrl-C")
    .action(
      async (entries: string[], opts: { outDir: string; embed?: boolean; watch?: boolean }) => {
        if (opts.watch) {
          process.exitCode = await watchBuild(entries, opts, async (e, o) =>
            (await import("./build-command.js")).runBuild(e, o),
          );
          return;
        }
        const { runBuild } = await import("./build-command.js");
        process.exitCode = await runBuild(entries, opts);
      },
    );

  const server = cli
    .command("server")
    .description(
      "the build server that keeps the compiler loaded between builds (started by `tsbpf build`)",
    );
  server
    .command("start")
    .description("start this package's build server now (a build starts one when there is none)")
    .action(async () => {
      const { startServer } = await import("../accel/server-control.js");
      const { status, started } = await startServer();
      console.log(
        `${started ? "started" : "already running:"} build server pid ${status.pid} on ${status.socket}`,
      );
    });
  server
    .command("stop")
    .description("stop this package's build server")
    .action(async () => {
      const { currentServer, stopServer } = await import("../accel/server-control.js");
      const current = currentServer();
      const stopped = current && (await stopServer(current.socket, current.blob));
      console.log(
        !stopped
          ? "no build server was running"
          : stopped.killed
            ? `build server pid ${stopped.pid} did not stop when asked (a build that never ends?): killed it`
            : `stopped build server pid ${stopped.pid}`,
      );
    });
  server
    .command("status")
    .description("say whether this package's build server runs (exit 1 when not)")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const { currentServer, serverStatus } = await import("../accel/server-control.js");
      const socket = currentServer()?.socket;
      const status = socket === undefined ? undefined : await serverStatus(socket);
      if (opts.json) console.log(JSON.stringify(status ?? null));
      else if (!status)
        console.log(`no build server running${socket ? ` (socket ${socket})` : ""}`);
      else
        console.log(
          `build server pid ${status.pid} on ${status.socket}: up since ${status.startedAt}, ` +
            `${status.builds} builds, stops after ${status.idleSeconds} s idle`,
        );
      if (!status) process.exitCode = 1;
    });
  server
    .command("run", { hidden: true })
    .description("run the build server in this process (started by `tsbpf server start`)")
    .action(async () => {
      const { runServer } = await import("../accel/server.js");
      await runServer({ program, reportError });
    });

  cli
    .command("new")
    .description("create a new tsbpf project (probe, shared struct, loader)")
    .argument("<name>", "project directory and probe name")
    .action(async (name: string) => {
      const { scaffold } = await import("./new.js");
      await scaffold(name);
    });

  cli
    .command("inspect")
    .description("list the programs, maps, license and BTF of an eBPF object")
    .argument("<file>", "eBPF ELF object")
    .option("--json", "print JSON")
    .option("--btf <file>", "resolve the CO-RE relocations against this BTF file and list them")
    .action(async (file: string, opts: { json?: boolean; btf?: string }) => {
      const { summarize, formatSummary } = await import("./inspect.js");
      const s = summarize(file, await readObject(file), opts.btf);
      // --json: one line, like every --json output (JSON lines; `jq .` pretty-prints it).
      console.log(opts.json ? JSON.stringify(s) : formatSummary(s));
    });

  cli
    .command("btf")
    .description("kernel types for probes")
    .command("gen")
    .description("write TypeScript declarations of kernel structs from BTF (docs/cli.md#btf-gen)")
    .option("--btf <file>", "a BTF file or vmlinux ELF instead of /sys/kernel/btf/vmlinux")
    .option(
      "-t, --types <names>",
      "comma-separated struct/union names",
      "task_struct,file,sk_buff,sock,linux_binprm",
    )
    .option("--depth <n>", "pointer hops declared from those types (default 3)")
    .option("-o, --output <file>", "write here (default: standard output)")
    .action(async (opts: { btf?: string; types: string; depth?: string; output?: string }) => {
      const { runBtfGen } = await import("./btf-gen.js");
      const r = runBtfGen(opts);
      if (opts.output !== undefined && opts.output !== "-")
        console.error(`wrote ${opts.output}: ${r.interfaces} interfaces, ${r.bytes} bytes`);
    });

  cli
    .command("disasm")
    .description("disassemble the programs of an eBPF object (bpftool syntax)")
    .argument("<file>", "eBPF ELF object")
    .option("--prog <name>", "only this program")
    .action(async (file: string, opts: { prog?: string }) => {
      const { disasmObject } = await import("./disasm.js");
      console.log(disasmObject(await readObject(file), opts.prog).join("\n"));
    });

  cli
    .command("load")
    .description("load an object, attach every program by its section, print events until Ctrl-C")
    .argument("<file>", "eBPF ELF object")
    .option("-i, --interface <iface>", "network interface for XDP and TC programs")
    .option("-u, --uprobe-path <binary>", "binary or library for uprobes whose section names none")
    .option("-b, --binary <binary>", "same as --uprobe-path")
    .option("-s, --symbol <name>", "function for uprobes and kprobes whose section names none")
    .option("--usdt <provider:name>", "USDT probe of --binary for usdt sections that name none")
    .option(
      "--tracepoint <name>",
      "tracepoint (CATEGORY/NAME) or raw tracepoint (NAME) for bare sections",
    )
    .addOption(
      new Option(
        "--direction <dir>",
        "tc and cgroup_skb direction when the section names none",
      ).choices(["ingress", "egress"]),
    )
    .option("-p, --pid <pid>", "only this process (uprobes)", int("pid"))
    .option("-c, --cgroup <path>", "cgroup v2 directory for cgroup programs")
    .addOption(new Option("--xdp-mode <mode>", "XDP attach mode").choices(["skb", "drv", "hw"]))
    .option("--json", "print one JSON object per event instead of hexdumps")
    .option("--btf <file>", "the kernel's BTF for CO-RE relocations (default /sys/kernel/btf)")
    .option(
      "--sample-freq <hz>",
      "perf_event programs: sample software cpu-clock this many times a second on every CPU",
      int("sample-freq"),
    )
    .option(
      "--kconfig <file>",
      "kernel config for __kconfig externs (default /boot/config-$(uname -r), /proc/config.gz)",
    )
    .option(
      "--interval <seconds>",
      "print every counter and histogram map this often, and at exit (decoded with the object's BTF)",
      positive("interval"),
    )
    .option("--top <n>", "with --interval: only the n highest counters of each map", int("top"))
    .option(
      "--trace",
      "stream bpf_trace_printk (tracePrintk) output, through a tracefs instance of its own",
    )
    .action(async (file: string, opts: LoadCliOptions) => {
      const { runLoad } = await import("./load.js");
      process.exitCode = await runLoad(file, opts);
    });

  registerExportCommands(cli);
  registerObjectCommands(cli);
  return cli;
}

export interface LoadCliOptions {
  interface?: string;
  uprobePath?: string;
  binary?: string;
  symbol?: string;
  usdt?: string;
  tracepoint?: string;
  direction?: "ingress" | "egress";
  pid?: number;
  cgroup?: string;
  xdpMode?: "skb" | "drv" | "hw";
  json?: boolean;
  btf?: string;
  kconfig?: string;
  sampleFreq?: number;
  interval?: number;
  top?: number;
  trace?: boolean;
}

/** Exit code of a command line the parser rejects (unknown option, missing argument). */
export const USAGE_EXIT = 2;
