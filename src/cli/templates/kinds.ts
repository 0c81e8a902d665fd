// The probe templates of `tsbpf new --template KIND` and `tsbpf add KIND NAME`, one per program
// kind people start from (Aya's and cargo-bpf's templates): each an event struct, a probe that
// sends it through a ring buffer (or counts, for the profiler), and a loader that attaches it and
// prints one line per event. `xdp` is the project of templates/project.ts. Every template is
// created, built, loaded and seen printing by test/kernel/e2e/templates.test.ts (kprobe and
// fentry in the VMs, where the kernel can attach them).

/** The `--template` names, in the order help text lists them. */
export const TEMPLATES = [
  "xdp",
  "tc",
  "tracepoint",
  "kprobe",
  "uprobe",
  "fentry",
  "perf-event",
  "cgroup",
] as const;
export type TemplateName = (typeof TEMPLATES)[number];

export interface KindTemplate {
  /** one line for help and the README */
  readonly summary: string;
  /** tsbpf/types imports of the event definition */
  readonly typeImports: readonly string[];
  /** the event struct (`export const Event = struct(…)`), shared by probe and loader */
  readonly event: string;
  /** tsbpf/probe imports of the probe */
  readonly probeImports: readonly string[];
  /** the probe's body after its imports; `IDENT` is the program name, `EVENTS` the map's */
  readonly probe: string;
  /** the loader's arguments (usage line) */
  readonly usage: string;
  /** the loader's body after its imports (it has `Event` and `text()`) */
  readonly loader: string;
  /** how to run the loader, and something that makes the probe report */
  readonly run: string;
}

const PACKET_EVENT = `/** One IPv4 TCP/UDP packet. Addresses are numbers: 10.0.0.1 is 0x0a000001. */
export const Event = struct("Event", {
  saddr: be32,
  daddr: be32,
  sport: u16,
  dport: u16,
  /** IP protocol: 6 TCP, 17 UDP */
  protocol: u16,
  length: u16,
});
export type Event = Infer<typeof Event>;
`;

const PACKET_PRINT = `const ipv4 = (a: number) => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join(".");
const PROTOCOLS: Record<number, string> = { 6: "TCP", 17: "UDP" };
const print = (raw: Uint8Array) => {
  const p = Event.decode(raw);
  const proto = PROTOCOLS[p.protocol] ?? \`proto \${p.protocol}\`;
  console.log(\`\${proto} \${ipv4(p.saddr)}:\${p.sport} -> \${ipv4(p.daddr)}:\${p.dport} (\${p.length} bytes)\`);
};
`;

const TASK_EVENT = (extra: string) => `/** One call, by the process that made it. */
export const Event = struct("Event", {
  pid: u32,
  comm: array(u8, 16),${extra}
});
export type Event = Infer<typeof Event>;
`;

/** Prints each event of the loaded object's ring buffer with \`line\`, until Ctrl-C. */
const STREAM = (
  line: string,
) => `for (const { program } of loaded.links) console.log(\`Loaded: \${program.name}, \${program.kindLabel}\`);
process.once("SIGINT", () => loaded.close()); // ends the loop below and detaches the probe
process.once("SIGTERM", () => loaded.close());

for await (const { events, lost } of loaded.events) {
  if (lost > 0) console.error(\`lost \${lost} events\`);
  for (const raw of events) {
    ${line}
  }
}
`;

const UDP_HELLO = `node -e 'require("dgram").createSocket("udp4").send("hello", 9999, "127.0.0.1", (e) => process.exit(e ? 1 : 0))'`;

const TASK_LINE = `const e = Event.decode(raw);
    console.log(\`pid \${e.pid} \${text(e.comm)}\`);`;

export const KIND_TEMPLATES: Record<TemplateName, KindTemplate> = {
  // `tsbpf new` makes the xdp project of templates/project.ts; `tsbpf add xdp` this probe
  xdp: {
    summary: "XDP: reports every IPv4 TCP/UDP packet an interface receives, and lets it through",
    typeImports: ["struct", "be32", "u16", "type Infer"],
    event: PACKET_EVENT,
    probeImports: ["program", "map", "xdp", "RingBuf", "XdpAction", "type XdpContext"],
    probe: `const EVENTS = map("EVENTS", new RingBuf(Event, { maxEntries: 65536 }));

export const IDENT = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  const transport = ctx.transport();
  if (!ip || ip.version !== 4 || !transport) return XdpAction.Pass;
  EVENTS.output({
    saddr: ip.saddr,
    daddr: ip.daddr,
    sport: transport.source(),
    dport: transport.dest(),
    protocol: ip.protocol,
    length: ctx.len(),
  });
  return XdpAction.Pass;
});
`,
    usage: "IFACE ELF",
    loader: `const [iface, elf] = process.argv.slice(2);
if (!iface || !elf) usage();
${PACKET_PRINT}
await using loaded = await Loader.create().xdp(iface!).loadFile(elf!);
${STREAM("print(raw);")}`,
    run: `sudo node dist/loader.js lo ELF
# another terminal: ${UDP_HELLO}`,
  },

  tc: {
    summary: "TC ingress classifier: reports every IPv4 TCP/UDP packet an interface receives",
    typeImports: ["struct", "be32", "u16", "type Infer"],
    event: PACKET_EVENT,
    probeImports: ["program", "map", "tc", "RingBuf", "TcAction", "type TcContext"],
    probe: `const EVENTS = map("EVENTS", new RingBuf(Event, { maxEntries: 65536 }));

export const IDENT = tc((ctx: TcContext) => {
  const ip = ctx.packet().ip();
  const transport = ctx.packet().transport();
  if (!ip || ip.version !== 4 || !transport) return TcAction.Ok;
  EVENTS.output({
    saddr: ip.saddr,
    daddr: ip.daddr,
    sport: transport.source(),
    dport: transport.dest(),
    protocol: ip.protocol,
    length: ctx.len,
  });
  return TcAction.Ok;
});
`,
    usage: "IFACE ELF",
    loader: `const [iface, elf] = process.argv.slice(2);
if (!iface || !elf) usage();
${PACKET_PRINT}
await using loaded = await Loader.create().iface(iface!).loadFile(elf!);
${STREAM("print(raw);")}`,
    run: `sudo node dist/loader.js lo ELF
# another terminal: ${UDP_HELLO}`,
  },

  tracepoint: {
    summary: "tracepoint sched/sched_process_exec: reports every program started",
    typeImports: ["struct", "array", "u8", "u32", "type Infer"],
    event: TASK_EVENT(""),
    probeImports: ["program", "map", "tracepoint", "RingBuf", "comm"],
    probe: `const EVENTS = map("EVENTS", new RingBuf(Event, { maxEntries: 65536 }));

/** The record of sched_process_exec after its common header (its format file in tracefs). */
const Exec = struct("Exec", { filenameLoc: u32, pid: u32, oldPid: u32 });

export const IDENT = tracepoint("sched", "sched_process_exec", Exec, (ctx) => {
  const e: Event = { pid: ctx.fields.pid, comm: new Uint8Array(16) };
  comm(e.comm);
  EVENTS.output(e);
  return 0;
});
`,
    usage: "ELF",
    loader: `const [elf] = process.argv.slice(2);
if (!elf) usage();
await using loaded = await Loader.create().loadFile(elf!);
${STREAM(TASK_LINE)}`,
    run: `sudo node dist/loader.js ELF
# another terminal: ls`,
  },

  kprobe: {
    summary: "kprobe on do_unlinkat: reports every file deletion (kernels with kprobes)",
    typeImports: ["struct", "array", "u8", "u32", "type Infer"],
    event: TASK_EVENT(""),
    probeImports: ["program", "map", "kprobe", "RingBuf", "comm", "pidTgid", "toNumber"],
    probe: `const EVENTS = map("EVENTS", new RingBuf(Event, { maxEntries: 65536 }));

export const IDENT = kprobe(() => {
  const e: Event = { pid: toNumber(pidTgid() >> 32n), comm: new Uint8Array(16) };
  comm(e.comm);
  EVENTS.output(e);
  return 0;
}, "do_unlinkat");
`,
    usage: "ELF",
    loader: `const [elf] = process.argv.slice(2);
if (!elf) usage();
await using loaded = await Loader.create().loadFile(elf!);
${STREAM(TASK_LINE)}`,
    run: `sudo node dist/loader.js ELF
# another terminal: touch /tmp/x && rm /tmp/x`,
  },

  uprobe: {
    summary: "uprobe on libc's mkdir(): reports the process and the path it creates",
    typeImports: ["struct", "array", "u8", "u32", "type Infer"],
    event: TASK_EVENT("\n  path: array(u8, 64),"),
    probeImports: [
      "program",
      "map",
      "uprobe",
      "RingBuf",
      "comm",
      "pidTgid",
      "probeReadUserStr",
      "toNumber",
      "type Registers",
    ],
    probe: `const EVENTS = map("EVENTS", new RingBuf(Event, { maxEntries: 65536 }));

/** Attached by the loader to a function of a binary or library (here libc's mkdir). */
export const IDENT = uprobe((regs: Registers) => {
  const e: Event = {
    pid: toNumber(pidTgid() >> 32n),
    comm: new Uint8Array(16),
    path: new Uint8Array(64),
  };
  comm(e.comm);
  probeReadUserStr(e.path, regs.parm1()); // mkdir(const char *path, mode_t mode)
  EVENTS.output(e);
  return 0;
});
`,
    usage: "ELF [BINARY] [SYMBOL]",
    loader: `const [elf, binary = "libc", symbol = "mkdir"] = process.argv.slice(2);
if (!elf) usage();
await using loaded = await Loader.create().uprobe(binary, { symbol }).loadFile(elf!);
${STREAM(`const e = Event.decode(raw);
    console.log(\`pid \${e.pid} \${text(e.comm)} \${symbol} \${text(e.path)}\`);`)}`,
    run: `sudo node dist/loader.js ELF
# another terminal: mkdir /tmp/hello`,
  },

  fentry: {
    summary: "fentry on do_unlinkat: reports every file deletion (kernels with BPF trampolines)",
    typeImports: ["struct", "array", "u8", "u32", "type Infer"],
    event: TASK_EVENT(""),
    probeImports: ["program", "map", "fentry", "RingBuf", "comm", "pidTgid", "toNumber"],
    probe: `const EVENTS = map("EVENTS", new RingBuf(Event, { maxEntries: 65536 }));

export const IDENT = fentry("do_unlinkat", () => {
  const e: Event = { pid: toNumber(pidTgid() >> 32n), comm: new Uint8Array(16) };
  comm(e.comm);
  EVENTS.output(e);
  return 0;
});
`,
    usage: "ELF",
    loader: `const [elf] = process.argv.slice(2);
if (!elf) usage();
await using loaded = await Loader.create().loadFile(elf!);
${STREAM(TASK_LINE)}`,
    run: `sudo node dist/loader.js ELF
# another terminal: touch /tmp/x && rm /tmp/x`,
  },

  "perf-event": {
    summary:
      "perf_event CPU profiler: samples every CPU 99 times a second, top commands by samples",
    typeImports: ["struct", "array", "u8", "u64", "type Infer"],
    event: `/** The key of the sample counts: the command that was on the CPU. */
export const Event = struct("Event", { comm: array(u8, 16) });
export type Event = Infer<typeof Event>;
export const Count = u64;
`,
    probeImports: ["program", "map", "perfEvent", "HashMap", "comm"],
    probe: `/** samples per command */
const EVENTS = map("EVENTS", new HashMap(Event, u64, { maxEntries: 10240 }));

export const IDENT = perfEvent(() => {
  const key: Event = { comm: new Uint8Array(16) };
  comm(key.comm);
  EVENTS.add(key, 1n);
  return 0;
});
`,
    usage: "ELF",
    loader: `const [elf] = process.argv.slice(2);
if (!elf) usage();
await using loaded = await Loader.create().attachDefaults({ perfEvent: { sampleFreq: 99 } }).loadFile(elf!);
for (const { program } of loaded.links) console.log(\`Loaded: \${program.name}, \${program.kindLabel}\`);
const samples = loaded.map("events");
const timer = setInterval(() => {
  const rows = [...samples].map(([k, v]) => [text(Event.decode(k).comm), Count.decode(v)] as const);
  rows.sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
  console.log(rows.slice(0, 10).map(([c, n]) => \`\${n} \${c}\`).join("\\n") + "\\n--");
}, 1000);
await new Promise((done) => {
  process.once("SIGINT", done);
  process.once("SIGTERM", done);
});
clearInterval(timer);
`,
    run: `sudo node dist/loader.js ELF      # prints the top commands every second`,
  },

  cgroup: {
    summary: "cgroup_skb egress: reports every IPv4 TCP/UDP packet the processes of a cgroup send",
    typeImports: ["struct", "be32", "u16", "type Infer"],
    event: PACKET_EVENT,
    probeImports: ["program", "map", "cgroupSkb", "RingBuf", "SkAction", "type CgroupSkbContext"],
    probe: `const EVENTS = map("EVENTS", new RingBuf(Event, { maxEntries: 65536 }));

export const IDENT = cgroupSkb("egress", (ctx: CgroupSkbContext) => {
  const ip = ctx.packet().ip();
  const transport = ctx.packet().transport();
  if (!ip || ip.version !== 4 || !transport) return SkAction.Pass;
  EVENTS.output({
    saddr: ip.saddr,
    daddr: ip.daddr,
    sport: transport.source(),
    dport: transport.dest(),
    protocol: ip.protocol,
    length: ctx.len,
  });
  return SkAction.Pass;
});
`,
    usage: "CGROUP ELF",
    loader: `const [cgroup, elf] = process.argv.slice(2);
if (!cgroup || !elf) usage();
${PACKET_PRINT}
await using loaded = await Loader.create().cgroup(cgroup!).loadFile(elf!);
${STREAM("print(raw);")}`,
    run: `sudo node dist/loader.js /sys/fs/cgroup ELF     # the root cgroup: every process
# another terminal: ${UDP_HELLO}`,
  },
};

const imports = (names: readonly string[], from: string) =>
  `import { ${names.join(", ")} } from "${from}";\n`;

/** The probe of template `t` as one self-contained file (`tsbpf add`): event struct included. */
export function standaloneProbe(t: KindTemplate, ident: string, kind: string): string {
  return (
    `// A ${kind} probe (${t.summary}), compiled to eBPF by \`tsbpf build\`.\n` +
    imports(t.probeImports, "tsbpf/probe") +
    imports(withU64(t), "tsbpf/types") +
    `\nprogram({ license: "GPL" });\n\n` +
    t.event +
    "\n" +
    body(t, ident)
  );
}

/** The probe body with its program and map named. */
function body(t: KindTemplate, ident: string): string {
  return t.probe.replaceAll("IDENT", ident).replaceAll("EVENTS", "events");
}

/** perf-event's probe names u64 for its counts. */
function withU64(t: KindTemplate): readonly string[] {
  return t.probe.includes("u64") && !t.typeImports.includes("u64")
    ? [...t.typeImports, "u64"]
    : t.typeImports;
}

/** probe.ts, shared.ts, loader.ts and README.md of a project made from template `t`. */
export function templateFiles(
  name: TemplateName,
  t: KindTemplate,
  project: string,
  ident: string,
): Record<string, string> {
  const elf = `target/bpf-programs/${project}/${project}.elf`;
  const probeTypes = ["struct", "u32", "u64"].filter(
    (n) => new RegExp(`\\b${n}\\b`).test(t.probe) && n !== "Event",
  );
  return {
    "shared.ts":
      "// One definition of the event, used by the probe (layout, BTF) and the loader (decoding).\n" +
      imports(t.typeImports, "tsbpf/types") +
      "\n" +
      t.event,
    "probe.ts":
      `// The kernel side: ${t.summary}.\n// Compiled to eBPF by \`tsbpf build\`.\n` +
      imports(t.probeImports, "tsbpf/probe") +
      (probeTypes.length ? imports(probeTypes, "tsbpf/types") : "") +
      `import { Event } from "./shared.js";\n\nprogram({ license: "GPL" });\n\n` +
      body(t, ident),
    "loader.ts":
      `// The user-space side: load the probe, attach it, print what it reports.\n//   usage: node dist/loader.js ${t.usage}\n` +
      `import { Loader } from "tsbpf";\n` +
      `import { Event${t.event.includes("Count") ? ", Count" : ""} } from "./shared.js";\n\n` +
      `function usage(): never {\n  console.error("usage: loader ${t.usage}");\n  process.exit(2);\n}\n` +
      (t.loader.includes("text(")
        ? `/** A NUL-terminated C string. */\nconst text = (b: Uint8Array) => Buffer.from(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0))).toString();\n`
        : "") +
      "\n" +
      t.loader,
    "README.md": `# ${project}

An eBPF program written in TypeScript with [tsbpf](https://www.npmjs.com/package/tsbpf), from
the \`${name}\` template: ${t.summary}.

- \`probe.ts\` — the probe (kernel side), compiled to eBPF by \`tsbpf build\`
- \`shared.ts\` — the event struct, shared by the probe and the loader
- \`loader.ts\` — loads the probe, attaches it, prints what it reports

\`\`\`sh
npm install
npm run build        # tsbpf build (→ ${elf}), then tsc -p tsconfig.build.json
${t.run.replaceAll("ELF", elf)}
\`\`\`

Add another probe with \`npx tsbpf add KIND NAME\`.
`,
  };
}
