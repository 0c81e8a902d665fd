// The `tsbpf` command: thin over the library. Each subcommand imports what it needs lazily so
// `tsbpf inspect` does not pay for the TypeScript compiler and `tsbpf build` needs no addon.
import { readFile } from "node:fs/promises";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import pc from "picocolors";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { version, bugs } = require("../../../package.json") as {
  version: string;
  bugs?: string | { url?: string };
};

export { UsageError } from "./usage-error.js";
import { UsageError } from "./usage-error.js";
import { registerObjectCommands } from "./objects.js";
// static: the build snapshot bundles main.ts's lazy imports only for `build` itself
import { watchBuild } from "./build-watch.js";

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
      const { startServer } = await import("./server-control.js");
      const { status, started } = await startServer();
      console.log(
        `${started ? "started" : "already running:"} build server pid ${status.pid} on ${status.socket}`,
      );
    });
  server
    .command("stop")
    .description("stop this package's build server")
    .action(async () => {
      const { currentServer, stopServer } = await import("./server-control.js");
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
      const { currentServer, serverStatus } = await import("./server-control.js");
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
      const { runServer } = await import("./server.js");
      await runServer();
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

  registerObjectCommands(cli);
  return cli;
}

export interface LoadCliOptions {
  interface?: string;
  uprobePath?: string;
  binary?: string;
  symbol?: string;
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

/**
 * Names of the typed errors that describe a problem with the input or the machine, not a bug of
 * tsbpf: printed as one line. Every error class the library exports is here (test/unit/
 * typed-errors.test.ts checks it), and the compiler's; a plain `Error`, `TypeError`,
 * `RangeError` … is an internal error, printed with its stack and a request for a report.
 * Names, not classes, so that reporting an error does not load the compiler (TypeScript).
 */
export const USER_ERRORS: ReadonlySet<string> = new Set([
  "ObjectError",
  "KconfigError",
  "KernelBtfError",
  "SysError",
  "CompileError",
  "CompileErrors",
  "AttachError",
  "LinkError",
  "FormatError",
  "MapError",
  "LoadError",
  "ProgramError",
  "CoreRelocationError",
  "BpffsError",
  "TracefsError",
  "CpuListError",
  "EncodeError",
  "DecodeError",
  "TypeDefinitionError",
  "RingCorruptError",
  "ReaderClosedError",
  "ReaderOptionError",
  "AddonError",
  "UsageError",
  "InspectError",
  "BtfValueError",
]);

/**
 * Whether `e` is a user error: one of USER_ERRORS, or a failed system call reported by Node
 * (`EACCES: permission denied, open '/x'`: the machine's answer, naming the path).
 */
export function isUserError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  if (USER_ERRORS.has(e.name)) return true;
  const { code, syscall } = e as NodeJS.ErrnoException;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) && typeof syscall === "string";
}

/** Exit code of a command line the parser rejects (unknown option, missing argument). */
export const USAGE_EXIT = 2;

/** Verifier logs of a program that hit the 1M-instruction limit run to a million lines. */
const LOG_LINES = 200;

/** The first and last `max / 2` lines of a log, with a note on what was left out. */
export function clipLog(log: string, max: number): string {
  const lines = log.trimEnd().split("\n");
  if (lines.length <= max) return lines.join("\n");
  const half = Math.floor(max / 2);
  return [
    ...lines.slice(0, half),
    `… ${lines.length - 2 * half} lines left out (set TSBPF_FULL_LOG=1 to print the whole log) …`,
    ...lines.slice(-half),
  ].join("\n");
}

/**
 * The verifier checks a program loaded without CAP_PERFMON as unprivileged ("… prohibited for
 * !root"): that rejection is a missing capability, not a bug in the program.
 */
async function unprivilegedVerifierHint(log: string): Promise<string | undefined> {
  if (!/\bfor !root\b/.test(log)) return undefined;
  const { Cap, missingCaps } = await import("../sys/caps.js");
  const missing = missingCaps([Cap.BPF, Cap.PERFMON]);
  if (missing.length === 0) return undefined;
  return (
    `the verifier treated this process as unprivileged: it lacks ${missing.join(", ")}, ` +
    "without which pointer arithmetic and more are refused; run it as root (sudo), or grant " +
    "CAP_BPF + CAP_PERFMON (see docs/running.md#capabilities)"
  );
}

/** Prints an error the way a user can act on it; verifier logs in full. */
export async function reportError(e: unknown): Promise<number> {
  const { VerifierError } = await import("../load/verifier.js");
  if (e instanceof UsageError) {
    console.error(pc.red(`error: ${e.message}`));
    return e.exitCode;
  }
  if (e instanceof VerifierError) {
    console.error(pc.red(`error: ${e.message.split("\n")[0]}`));
    if (e.source)
      console.error(
        `  at ${e.source.fileName}:${e.source.line}:${e.source.col}: ${e.source.text.trim()}`,
      );
    const hint = await unprivilegedVerifierHint(e.log);
    if (hint) console.error(`  hint: ${hint}`);
    console.error(pc.dim("verifier log:"));
    console.error(clipLog(e.log, process.env.TSBPF_FULL_LOG ? Infinity : LOG_LINES));
    return 1;
  }
  if (e instanceof CommanderError) return e.exitCode; // commander printed it already
  if (isUserError(e)) {
    console.error(pc.red(`error: ${e.message}`));
    if (process.env.TSBPF_DEBUG) console.error(e.stack);
    return 1;
  }
  console.error(pc.red(`internal error: ${String((e as Error | undefined)?.stack ?? e)}`));
  // Only a tracker package.json names: no invented address.
  const tracker = typeof bugs === "string" ? bugs : bugs?.url;
  console.error(
    `please report this${tracker ? ` at ${tracker}` : " to the tsbpf maintainers"}, with the command you ran`,
  );
  return 70;
}
