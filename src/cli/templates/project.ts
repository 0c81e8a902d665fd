// The files `tsbpf new NAME` writes: an XDP probe that reports every IPv4 TCP/UDP packet it
// sees, the struct both sides share, a loader that prints one line per packet, and the
// package/tsconfig to build them. test/kernel/e2e/new-project.test.ts builds, type-checks and loads them as
// written, so these strings cannot rot unnoticed.

export interface ProjectNames {
  /** the project (directory and npm package) name */
  name: string;
  /** `name` as a C identifier: the program's name in the object */
  ident: string;
  /** the `tsbpf` dependency specifier, e.g. `^0.1.0` or `file:/path/to/tsbpf` */
  tsbpf: string;
  /** the TypeScript version range the loader builds with */
  typescript: string;
  /** the @types/node version range */
  typesNode: string;
}

/** The generated project's .npmrc (see projectFiles). */
export const NPMRC =
  "# npx/npm run start commands through this shell; bash runs a single command in place, so\n" +
  "# signals sent to npx reach `tsbpf load` (docs/install.md)\n" +
  "script-shell=bash\n";

export function projectFiles(n: ProjectNames): Record<string, string> {
  return {
    "package.json":
      JSON.stringify(
        {
          name: n.name,
          version: "0.1.0",
          private: true,
          type: "module",
          scripts: {
            build: "tsbpf build && tsc -p tsconfig.build.json",
            typecheck: "tsc",
            start: `node dist/loader.js`,
          },
          tsbpf: { probes: ["probe.ts"] },
          dependencies: { tsbpf: n.tsbpf },
          devDependencies: { typescript: n.typescript, "@types/node": n.typesNode },
        },
        null,
        2,
      ) + "\n",

    // Two configurations. tsconfig.json is the project as the editor and `tsc --noEmit` see
    // it: every .ts file, probes included, type-checked and never emitted (the probe is
    // compiled to eBPF by `tsbpf build`, not to JavaScript). tsconfig.build.json emits the
    // loader and what it imports — never a probe, since no loader imports one.
    "tsconfig.json":
      JSON.stringify(
        {
          compilerOptions: {
            target: "ES2022",
            lib: ["ES2023", "ESNext.Disposable", "ESNext.AsyncIterable"],
            module: "NodeNext",
            moduleResolution: "NodeNext",
            strict: true,
            skipLibCheck: true,
            types: ["node"],
            noEmit: true,
          },
          include: ["**/*.ts"],
          exclude: ["node_modules", "dist", "target"],
        },
        null,
        2,
      ) + "\n",

    "tsconfig.build.json":
      JSON.stringify(
        {
          extends: "./tsconfig.json",
          compilerOptions: { noEmit: false, outDir: "dist", rootDir: "." },
          files: ["loader.ts"],
          include: [],
        },
        null,
        2,
      ) + "\n",

    ".gitignore": "node_modules/\ndist/\ntarget/\n",

    // npm runs every `npx`/`npm run` command through `<script-shell> -c`. dash (Debian's
    // /bin/sh) forks the command and neither passes SIGINT/SIGTERM on nor exits 0, so a signal
    // sent to npx alone (a supervisor, `docker stop`) never reached `tsbpf load`; bash runs a
    // single command in its own place, so the loader gets the signal, detaches and exits 0.
    ".npmrc": NPMRC,

    "shared.ts": `// One definition of the event, used by the probe (layout, BTF) and the loader (decoding).
import { struct, be32, u16, u32, type Infer } from "tsbpf/types";

/** One packet seen by the probe. Addresses are numbers: 10.0.0.1 is 0x0a000001. */
export const Packet = struct("Packet", {
  saddr: be32,
  daddr: be32,
  sport: u16,
  dport: u16,
  /** IP protocol: 6 TCP, 17 UDP */
  protocol: u16,
  /** frame length in bytes */
  length: u16,
});
export type Packet = Infer<typeof Packet>;
`,

    "probe.ts": `// The kernel side: an XDP program, compiled to eBPF by \`tsbpf build\`.
// It reports every IPv4 TCP or UDP packet arriving on the interface, and lets it through.
import { program, map, xdp, PerfMap, XdpAction, type XdpContext } from "tsbpf/probe";
import { Packet } from "./shared.js";

program({ license: "GPL" });

const packets = map("packets", new PerfMap(Packet, { maxEntries: 1024 }));

export const ${n.ident} = xdp((ctx: XdpContext) => {
  const ip = ctx.ip();
  const transport = ctx.transport();
  if (!ip || ip.version !== 4 || !transport) return XdpAction.Pass;
  const event: Packet = {
    saddr: ip.saddr,
    daddr: ip.daddr,
    sport: transport.source(),
    dport: transport.dest(),
    protocol: ip.protocol,
    length: ctx.len(),
  };
  packets.insert(ctx, event);
  return XdpAction.Pass;
});
`,

    "loader.ts": `// The user-space side: load the probe, attach it to an interface, print its events.
//   usage: node dist/loader.js IFACE ELF
import { Loader } from "tsbpf";
import { Packet } from "./shared.js";

const [iface, elf] = process.argv.slice(2);
if (!iface || !elf) {
  console.error("usage: loader IFACE ELF");
  process.exit(2);
}

const ipv4 = (a: number) => [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join(".");
const PROTOCOLS: Record<number, string> = { 6: "TCP", 17: "UDP" };

await using loaded = await Loader.create().xdp(iface).loadFile(elf);
for (const { program } of loaded.links) console.log(\`Loaded: \${program.name}, \${program.kindLabel}\`);
process.once("SIGINT", () => loaded.close()); // ends the loop below and detaches the probe
process.once("SIGTERM", () => loaded.close());

for await (const { events, lost } of loaded.events) {
  if (lost > 0) console.error(\`lost \${lost} events\`);
  for (const raw of events) {
    const p = Packet.decode(raw);
    const proto = PROTOCOLS[p.protocol] ?? \`proto \${p.protocol}\`;
    console.log(
      \`\${proto} \${ipv4(p.saddr)}:\${p.sport} -> \${ipv4(p.daddr)}:\${p.dport} (\${p.length} bytes)\`,
    );
  }
}
`,

    "README.md": `# ${n.name}

An eBPF program written in TypeScript with [tsbpf](https://www.npmjs.com/package/tsbpf).

- \`probe.ts\` — the XDP program (kernel side), compiled to eBPF by \`tsbpf build\`
- \`shared.ts\` — the event struct, shared by the probe and the loader
- \`loader.ts\` — loads the probe, attaches it to an interface, prints each event

\`\`\`sh
npm install
npm run build        # tsbpf build (→ target/bpf-programs/${n.name}/${n.name}.elf), then tsc -p tsconfig.build.json
sudo node dist/loader.js lo target/bpf-programs/${n.name}/${n.name}.elf
# or, without the loader: sudo npx tsbpf load -i lo target/bpf-programs/${n.name}/${n.name}.elf
# then, from another terminal, a UDP datagram over loopback for the probe to see:
node -e 'require("dgram").createSocket("udp4").send("hello", 9999, "127.0.0.1", (e) => process.exit(e ? 1 : 0))'
\`\`\`

\`tsconfig.json\` type-checks every file, probes included, and emits nothing (\`npx tsc\` and
your editor use it); \`tsconfig.build.json\` compiles \`loader.ts\` and what it imports to
\`dist/\`. Probes are compiled to eBPF by \`tsbpf build\` (the files listed under \`"tsbpf"\` in
\`package.json\`), never to JavaScript. \`lo\` is the loopback interface: attaching there
cannot cut you off a remote machine; use your real interface once the probe does what you want.
`,
  };
}
